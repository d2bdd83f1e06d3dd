package inbound

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/pocketbase/pocketbase/core"
)

// IMAPOptions tune the fetcher; zero values are the production ones.
type IMAPOptions struct {
	InsecureSkipVerify bool          // accept any server certificate (PORTAL_IMAP_INSECURE_SKIP_VERIFY=1)
	PollInterval       time.Duration // without IDLE (default 30 s)
	IdleRestart        time.Duration // IDLE is renewed this often (default 20 min; RFC 2177 says < 29)
	MinBackoff         time.Duration // first wait after a failure (default 1 s), doubled up to MaxBackoff
	MaxBackoff         time.Duration // default 5 min
	NoIdle             bool          // poll even where IDLE is offered
}

// IMAPFetcher fetches unseen mail from one IMAP mailbox into the inbox.
type IMAPFetcher struct {
	app      core.App
	addr     string
	tls      bool // imaps (else STARTTLS)
	user     string
	pass     string
	mailbox  string
	opts     IMAPOptions
	stop     chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	conn     *imapclient.Client
	stopOnce sync.Once
	tooLarge map[imap.UID]bool

	// LastError is the last connection or fetch error ("" after a good
	// session); the log has each one.
	lastError string
}

// ParseIMAPURL reads imaps://user:password@host:993/INBOX (or imap://,
// which uses STARTTLS).
func ParseIMAPURL(raw string) (addr string, useTLS bool, user, pass, mailbox string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false, "", "", "", errors.New("not a URL")
	}
	switch u.Scheme {
	case "imaps":
		useTLS = true
	case "imap":
	default:
		return "", false, "", "", "", errors.New("the scheme must be imaps:// or imap:// (with STARTTLS)")
	}
	if u.User == nil || u.Hostname() == "" {
		return "", false, "", "", "", errors.New("needs user:password@host")
	}
	user = u.User.Username()
	pass, _ = u.User.Password()
	port := u.Port()
	if port == "" {
		port = map[bool]string{true: "993", false: "143"}[useTLS]
	}
	mailbox = strings.TrimPrefix(u.Path, "/")
	if mailbox == "" {
		mailbox = "INBOX"
	}
	return net.JoinHostPort(u.Hostname(), port), useTLS, user, pass, mailbox, nil
}

// StartIMAP starts fetching from the mailbox of rawURL.
func StartIMAP(app core.App, rawURL string, opts IMAPOptions) (*IMAPFetcher, error) {
	addr, useTLS, user, pass, mailbox, err := ParseIMAPURL(rawURL)
	if err != nil {
		return nil, err
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 30 * time.Second
	}
	if opts.IdleRestart <= 0 {
		opts.IdleRestart = 20 * time.Minute
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	f := &IMAPFetcher{app: app, addr: addr, tls: useTLS, user: user, pass: pass, mailbox: mailbox, opts: opts,
		tooLarge: map[imap.UID]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go f.run()
	return f, nil
}

// Stop ends the fetcher.
func (f *IMAPFetcher) Stop() {
	f.stopOnce.Do(func() {
		close(f.stop)
		f.mu.Lock()
		if f.conn != nil {
			_ = f.conn.Close()
		}
		f.mu.Unlock()
		<-f.done
	})
}

// LastError is the fetcher's last error, "" when the last session was good.
func (f *IMAPFetcher) LastError() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastError
}

func (f *IMAPFetcher) stopped() bool {
	select {
	case <-f.stop:
		return true
	default:
		return false
	}
}

// run keeps a session up, reconnecting with backoff.
func (f *IMAPFetcher) run() {
	defer close(f.done)
	wait := f.opts.MinBackoff
	for !f.stopped() {
		began := time.Now()
		err := f.session()
		if f.stopped() {
			return
		}
		f.mu.Lock()
		if err != nil {
			f.lastError = err.Error()
		}
		f.mu.Unlock()
		f.app.Logger().Error("IMAP fetcher: connection lost; reconnecting", "server", f.addr, "in", wait.String(), "error", err)
		if time.Since(began) > time.Minute {
			wait = f.opts.MinBackoff
		}
		select {
		case <-f.stop:
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, f.opts.MaxBackoff)
	}
}

// session is one connection: log in, select, then fetch what is unseen
// whenever the server says something arrived (IDLE) or every PollInterval.
func (f *IMAPFetcher) session() error {
	arrived := make(chan struct{}, 1)
	options := &imapclient.Options{
		TLSConfig: &tls.Config{InsecureSkipVerify: f.opts.InsecureSkipVerify, ServerName: hostOf(f.addr)},
		Dialer:    &net.Dialer{Timeout: 30 * time.Second},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(data *imapclient.UnilateralDataMailbox) {
				if data.NumMessages != nil {
					select {
					case arrived <- struct{}{}:
					default:
					}
				}
			},
		},
	}
	var c *imapclient.Client
	var err error
	if f.tls {
		c, err = imapclient.DialTLS(f.addr, options)
	} else {
		c, err = imapclient.DialStartTLS(f.addr, options)
	}
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	f.mu.Lock()
	f.conn = c
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.conn = nil
		f.mu.Unlock()
		_ = c.Close()
	}()
	if f.stopped() {
		return nil
	}
	if err := c.Login(f.user, f.pass).Wait(); err != nil {
		return fmt.Errorf("logging in: %w", err)
	}
	if _, err := c.Select(f.mailbox, nil).Wait(); err != nil {
		return fmt.Errorf("selecting %s: %w", f.mailbox, err)
	}
	f.mu.Lock()
	f.lastError = ""
	f.mu.Unlock()
	f.app.Logger().Info("IMAP fetcher connected", "server", f.addr, "mailbox", f.mailbox)
	useIdle := !f.opts.NoIdle && c.Caps().Has(imap.CapIdle)
	for {
		if err := f.fetchUnseen(c); err != nil {
			return err
		}
		if f.stopped() {
			return nil
		}
		if !useIdle {
			select {
			case <-f.stop:
				return nil
			case <-c.Closed():
				return errors.New("the server closed the connection")
			case <-time.After(f.opts.PollInterval):
			}
			continue
		}
		idle, err := c.Idle()
		if err != nil {
			return fmt.Errorf("IDLE: %w", err)
		}
		select {
		case <-f.stop:
		case <-arrived:
		case <-c.Closed():
		case <-time.After(f.opts.IdleRestart):
		}
		_ = idle.Close()
		if err := idle.Wait(); err != nil && !f.stopped() {
			return fmt.Errorf("IDLE: %w", err)
		}
		if f.stopped() {
			return nil
		}
	}
}

// fetchUnseen stores each unseen message, then flags it \Seen: a message
// is flagged only once the inbox holds it (a crash in between fetches it
// again, and its Message-ID makes the second copy a no-op).
func (f *IMAPFetcher) fetchUnseen(c *imapclient.Client) error {
	data, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		return fmt.Errorf("searching: %w", err)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	for _, uid := range data.AllUIDs() {
		if f.stopped() {
			return nil
		}
		msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return fmt.Errorf("fetching: %w", err)
		}
		if len(msgs) == 0 {
			continue
		}
		raw := msgs[0].FindBodySection(section)
		if len(raw) > MaxBytes || msgs[0].RFC822Size > MaxBytes {
			if !f.tooLarge[uid] {
				f.tooLarge[uid] = true
				f.app.Logger().Warn("IMAP fetcher: a message over 25 MiB is left unread in the mailbox", "uid", uid)
				counter.WithLabelValues(StateRefused).Inc()
			}
			continue
		}
		if raw == nil {
			continue
		}
		if _, _, err := Store(f.app, raw, "imap", "", nil); err != nil {
			return fmt.Errorf("storing: %w", err)
		}
		if err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
			return fmt.Errorf("flagging seen: %w", err)
		}
	}
	return nil
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}
