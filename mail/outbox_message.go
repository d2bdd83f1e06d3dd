package mail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/pocketbase/pocketbase/tools/mailer"
)

// storedMessage is the JSON form of a mailer.Message in the outbox.
type storedMessage struct {
	From        address           `json:"from"`
	To          []address         `json:"to"`
	Cc          []address         `json:"cc,omitempty"`
	Bcc         []address         `json:"bcc,omitempty"`
	Subject     string            `json:"subject"`
	HTML        string            `json:"html"`
	Text        string            `json:"text"`
	Headers     map[string]string `json:"headers,omitempty"`
	Attachments map[string][]byte `json:"attachments,omitempty"`
	Inline      map[string][]byte `json:"inlineAttachments,omitempty"`
}

type address struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

func toAddresses(list []mail.Address) []address {
	out := make([]address, 0, len(list))
	for _, a := range list {
		out = append(out, address{Name: a.Name, Address: a.Address})
	}
	return out
}

func fromAddresses(list []address) []mail.Address {
	out := make([]mail.Address, 0, len(list))
	for _, a := range list {
		out = append(out, mail.Address{Name: a.Name, Address: a.Address})
	}
	return out
}

func readAll(files map[string]io.Reader) (map[string][]byte, error) {
	if len(files) == 0 {
		return nil, nil
	}
	out := make(map[string][]byte, len(files))
	for name, r := range files {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("reading attachment %q: %w", name, err)
		}
		out[name] = data
	}
	return out, nil
}

func readers(files map[string][]byte) map[string]io.Reader {
	if len(files) == 0 {
		return nil
	}
	out := make(map[string]io.Reader, len(files))
	for name, data := range files {
		out[name] = bytes.NewReader(data)
	}
	return out
}

func encodeMessage(msg *mailer.Message) ([]byte, error) {
	attachments, err := readAll(msg.Attachments)
	if err != nil {
		return nil, err
	}
	inline, err := readAll(msg.InlineAttachments)
	if err != nil {
		return nil, err
	}
	return json.Marshal(storedMessage{
		From: address{Name: msg.From.Name, Address: msg.From.Address},
		To:   toAddresses(msg.To), Cc: toAddresses(msg.Cc), Bcc: toAddresses(msg.Bcc),
		Subject: msg.Subject, HTML: msg.HTML, Text: msg.Text, Headers: msg.Headers,
		Attachments: attachments, Inline: inline,
	})
}

func decodeMessage(raw []byte) (*mailer.Message, error) {
	var s storedMessage
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	if len(s.To)+len(s.Cc)+len(s.Bcc) == 0 {
		return nil, errors.New("no recipient")
	}
	return &mailer.Message{
		From: mail.Address{Name: s.From.Name, Address: s.From.Address},
		To:   fromAddresses(s.To), Cc: fromAddresses(s.Cc), Bcc: fromAddresses(s.Bcc),
		Subject: s.Subject, HTML: s.HTML, Text: s.Text, Headers: s.Headers,
		Attachments: readers(s.Attachments), InlineAttachments: readers(s.Inline),
	}, nil
}

func addressList(lists ...[]mail.Address) string {
	var out []string
	for _, list := range lists {
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return strings.Join(out, ", ")
}

// cut shortens s to at most n runes.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
