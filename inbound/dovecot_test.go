package inbound_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// dovecotBin is Debian's dovecot-imapd (.ci/run installs it).
const dovecotBin = "/usr/sbin/dovecot"

// dovecot is a real IMAP server for one test: its own config in a temp
// dir, a passwd-file user "inbox" (password "secret"), a maildir, implicit
// TLS with a self-signed certificate on a free loopback port. It runs as
// the current user, or as nobody when the tests run as root (Dovecot's
// login process refuses root).
type dovecot struct {
	dir, maildir string
	port         int
	uid, gid     int
	cmd          *exec.Cmd
	done         chan struct{}
}

var deliveries atomic.Int64

func startDovecot(t *testing.T) *dovecot {
	t.Helper()
	if _, err := os.Stat(dovecotBin); err != nil {
		t.Skip("dovecot-imapd is not installed (apt-get install dovecot-imapd)")
	}
	dir, err := os.MkdirTemp("", "portal_dovecot_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o755)
	d := &dovecot{dir: dir, maildir: filepath.Join(dir, "home", "inbox", "Maildir")}
	loginUser, internalUser, group := "", "", ""
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			t.Skip("running as root without a nobody user")
		}
		g, _ := user.LookupGroupId(u.Gid)
		d.uid, _ = strconv.Atoi(u.Uid)
		d.gid, _ = strconv.Atoi(u.Gid)
		loginUser, internalUser, group = "nobody", "nobody", g.Name
	} else {
		u, _ := user.Current()
		g, _ := user.LookupGroupId(u.Gid)
		d.uid, d.gid = os.Getuid(), os.Getgid()
		loginUser, internalUser, group = u.Username, u.Username, g.Name
	}
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(d.maildir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_ = filepath.Walk(filepath.Join(dir, "home"), func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, d.uid, d.gid) })
	writeCert(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "passwd"), []byte("inbox:{PLAIN}secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	d.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := fmt.Sprintf(`protocols = imap
listen = 127.0.0.1
base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
ssl = required
ssl_cert = <%[1]s/cert.pem
ssl_key = <%[1]s/key.pem
default_login_user = %[2]s
default_internal_user = %[3]s
default_internal_group = %[4]s
auth_mechanisms = plain
disable_plaintext_auth = no
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/passwd
}
userdb {
  driver = static
  args = uid=%[5]d gid=%[6]d home=%[1]s/home/%%u
}
mail_location = maildir:~/Maildir
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = %[7]d
    ssl = yes
  }
  chroot =
}
service anvil {
  chroot =
}
`, dir, loginUser, internalUser, group, d.uid, d.gid, d.port)
	if err := os.WriteFile(filepath.Join(dir, "dovecot.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	d.start(t)
	t.Cleanup(func() { d.stop(t) })
	return d
}

func writeCert(t *testing.T, dir string) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	_ = os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
}

func (d *dovecot) url() string {
	return fmt.Sprintf("imaps://inbox:secret@127.0.0.1:%d/INBOX", d.port)
}

func (d *dovecot) start(t *testing.T) {
	t.Helper()
	d.cmd = exec.Command(dovecotBin, "-F", "-c", filepath.Join(d.dir, "dovecot.conf"))
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d.done = make(chan struct{})
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", d.port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(d.dir, "dovecot.log"))
			t.Fatalf("dovecot did not start: %v\n%s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop ends the server and every process it started (the IMAP sessions
// with it: the server "goes away").
func (d *dovecot) stop(t *testing.T) {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	select {
	case <-d.done:
		return
	default:
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	<-d.done
	// A session killed while it synced the maildir leaves its dotlock on
	// the uidlist, and the next server's SELECT waits for it to go stale
	// (two minutes); seen under load. A real server recovers that way on
	// its own; these tests are about the fetcher, so the stale lock goes.
	_ = os.Remove(filepath.Join(d.maildir, "dovecot-uidlist.lock"))
	// the session processes are in the group too; wait for the port
	for range 100 {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", d.port), 100*time.Millisecond)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

// deliver puts a message in the maildir as a local delivery agent does.
func (d *dovecot) deliver(t *testing.T, raw string) {
	t.Helper()
	name := fmt.Sprintf("%d.%d.test", time.Now().UnixNano(), deliveries.Add(1))
	tmp := filepath.Join(d.maildir, "tmp", name)
	if err := os.WriteFile(tmp, []byte(raw), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Lchown(tmp, d.uid, d.gid)
	if err := os.Rename(tmp, filepath.Join(d.maildir, "new", name)); err != nil {
		t.Fatal(err)
	}
}

// seen reads each message's \Seen flag by Message-ID, as another mail
// client would.
func (d *dovecot) seen(t *testing.T) map[string]bool {
	t.Helper()
	c, err := imapclient.DialTLS(fmt.Sprintf("127.0.0.1:%d", d.port), &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("inbox", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	mb, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	if mb.NumMessages == 0 {
		return out
	}
	var all imap.SeqSet
	all.AddRange(1, mb.NumMessages)
	msgs, err := c.Fetch(all, &imap.FetchOptions{Flags: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		s := false
		for _, f := range m.Flags {
			if f == imap.FlagSeen {
				s = true
			}
		}
		out[m.Envelope.MessageID] = s
	}
	return out
}
