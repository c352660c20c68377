// Package smtptest runs a real SMTP server inside a test (emersion/go-smtp on
// a loopback port) and records what it receives: the envelope and the
// parsed MIME message. Tests point Parley's mailer at it and check what
// people would really get, instead of trusting a mocked sender.
package smtptest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"encoding/base64"

	"github.com/emersion/go-smtp"
)

// Message is one accepted email.
type Message struct {
	From      string   // envelope MAIL FROM
	To        []string // envelope RCPT TO
	Header    mail.Header
	Subject   string // decoded
	MessageID string
	Text      string // the text/plain part, decoded
	HTML      string // the text/html part, decoded
	Raw       []byte
}

// Server is a running SMTP server. Its zero configuration accepts every
// message.
type Server struct {
	Addr string // host:port
	Host string
	Port int

	srv *smtp.Server
	mu  sync.Mutex
	got []Message
	// rejectRcpt, when set, answers RCPT TO for an address (nil accepts).
	rejectRcpt func(addr string) error
	// rejectData, when set, answers the end of DATA.
	rejectData func() error
	signal     chan struct{}
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: l.Addr().String(), signal: make(chan struct{}, 1)}
	host, port, _ := net.SplitHostPort(s.Addr)
	s.Host = host
	for _, c := range port {
		s.Port = s.Port*10 + int(c-'0')
	}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "smtptest.local"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	go s.srv.Serve(l) //nolint:errcheck // ends with Close
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// RejectRecipients makes RCPT TO answer err (e.g. Permanent or Temporary)
// for addresses where match is true; nil match accepts all again.
func (s *Server) RejectRecipients(match func(addr string) bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if match == nil {
		s.rejectRcpt = nil
		return
	}
	s.rejectRcpt = func(addr string) error {
		if match(addr) {
			return err
		}
		return nil
	}
}

// RejectData makes the server refuse messages at the end of DATA with the
// error fn returns (nil accepts); nil fn accepts all again.
func (s *Server) RejectData(fn func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectData = fn
}

// Permanent is a 550 refusal ("no such user").
var Permanent = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}

// Temporary is a 451 refusal ("try again later").
var Temporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}

// Messages returns what was accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.got...)
}

// WaitFor waits until n messages were accepted (or the timeout passes) and
// returns them all.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		select {
		case <-s.signal:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			m := s.Messages()
			t.Fatalf("smtptest: waited %s for %d messages, got %d", timeout, n, len(m))
			return m
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	reject := x.s.rejectRcpt
	x.s.mu.Unlock()
	if reject != nil {
		if err := reject(to); err != nil {
			return err
		}
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	reject := x.s.rejectData
	x.s.mu.Unlock()
	if reject != nil {
		if err := reject(); err != nil {
			return err
		}
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "smtptest: unparsable message: " + err.Error()}
	}
	m.From, m.To = x.from, append([]string(nil), x.to...)
	x.s.mu.Lock()
	x.s.got = append(x.s.got, *m)
	x.s.mu.Unlock()
	select {
	case x.s.signal <- struct{}{}:
	default:
	}
	return nil
}

func parse(raw []byte) (*Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return nil, err
	}
	m := &Message{Header: msg.Header, Subject: subject, MessageID: msg.Header.Get("Message-ID"), Raw: raw}
	if err := m.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body); err != nil {
		return nil, err
	}
	return m, nil
}

// walk collects the text and HTML parts of a (possibly nested) multipart
// body.
func (m *Message) walk(contentType, encoding string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: body})
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		m.Text = string(b)
	case "text/html":
		m.HTML = string(b)
	}
	return nil
}

type newlineStripper struct{ r io.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	j := 0
	for _, c := range p[:k] {
		if c != '\r' && c != '\n' {
			p[j] = c
			j++
		}
	}
	return j, err
}
