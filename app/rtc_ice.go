package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pion/turn/v4"

	"github.com/parleydesk/parley/models"
)

// turnCredentialTTL is how long a media session's TURN credentials work:
// long enough for a support call, short enough that a leaked pair is soon
// worthless. Allocations made with it live on while refreshed.
const turnCredentialTTL = 2 * time.Hour

// parseICEServers reads PARLEY_ICE_SERVERS: a JSON list of servers, each
// with stun:, stuns:, turn: or turns: URLs.
func parseICEServers(raw string, into *[]ICEServer) error {
	var list []struct {
		URLs       json.RawMessage `json:"urls"`
		Username   string          `json:"username"`
		Credential string          `json:"credential"`
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return err
	}
	out := make([]ICEServer, 0, len(list))
	for i, s := range list {
		var urls []string
		if json.Unmarshal(s.URLs, &urls) != nil {
			var one string
			if err := json.Unmarshal(s.URLs, &one); err != nil {
				return fmt.Errorf("server %d: urls must be a string or a list of strings", i+1)
			}
			urls = []string{one}
		}
		if len(urls) == 0 {
			return fmt.Errorf("server %d: no urls", i+1)
		}
		for _, u := range urls {
			scheme, _, _ := strings.Cut(u, ":")
			switch scheme {
			case "stun", "stuns", "turn", "turns":
			default:
				return fmt.Errorf("server %d: %q is not a stun: or turn: URL", i+1, u)
			}
		}
		out = append(out, ICEServer{URLs: urls, Username: s.Username, Credential: s.Credential})
	}
	*into = out
	return nil
}

// rtcICE is what a browser needs to connect one media session: the
// configured servers, plus the embedded TURN server with credentials for
// this session only (TURN REST: "<expiry>:<session>" and its HMAC-SHA1).
type rtcICE struct {
	ICEServers         []ICEServer `json:"iceServers"`
	ICETransportPolicy string      `json:"iceTransportPolicy"`
}

func (a *App) iceFor(session string) (rtcICE, error) {
	out := rtcICE{ICEServers: append([]ICEServer{}, a.cfg.RTC.ICEServers...), ICETransportPolicy: "all"}
	if a.cfg.RTC.RelayOnly {
		out.ICETransportPolicy = "relay"
	}
	if a.turnURL != "" {
		user, pass, err := turn.GenerateLongTermTURNRESTCredentials(a.turnSecret, session, turnCredentialTTL)
		if err != nil {
			return out, err
		}
		out.ICEServers = append(out.ICEServers, ICEServer{URLs: []string{a.turnURL}, Username: user, Credential: pass})
	}
	return out, nil
}

// startTURN runs the embedded TURN server when PARLEY_TURN_LISTEN is set.
// Its credentials are checked with the shared secret alone (no state), so
// any instance's server accepts what any instance handed out.
func (a *App) startTURN(ctx context.Context) error {
	a.turnSecret = a.cfg.RTC.TURNSecret
	if a.turnSecret == "" {
		s, err := models.TURNSecret(ctx, a.db)
		if err != nil {
			return err
		}
		a.turnSecret = s
	}
	if a.cfg.RTC.TURNListen == "" {
		// An external TURN server sharing the secret (coturn's
		// use-auth-secret): hand out its credentials the same way.
		a.turnURL = a.cfg.RTC.TURNURL
		return nil
	}
	conn, err := net.ListenPacket("udp4", a.cfg.RTC.TURNListen)
	if err != nil {
		return fmt.Errorf("turn: listen %s: %w", a.cfg.RTC.TURNListen, err)
	}
	addr := conn.LocalAddr().(*net.UDPAddr)
	ip := net.ParseIP(a.cfg.RTC.TURNPublicIP)
	if ip == nil {
		ip = addr.IP
		if ip.IsUnspecified() {
			ip = net.IPv4(127, 0, 0, 1)
		}
	}
	relayOn := addr.IP.String()
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:       "parley",
		AuthHandler: turn.LongTermTURNRESTAuthHandler(a.turnSecret, nil),
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            conn,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: ip, Address: relayOn},
		}},
	})
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("turn: %w", err)
	}
	a.turn = srv
	a.turnURL = a.cfg.RTC.TURNURL
	if a.turnURL == "" {
		a.turnURL = "turn:" + net.JoinHostPort(ip.String(), strconv.Itoa(addr.Port)) + "?transport=udp"
	}
	a.log.Info("embedded TURN server listening", "addr", addr.String(), "url", a.turnURL)
	return nil
}

// TURNAddr is the embedded TURN server's UDP address (tests), or "".
func (a *App) TURNAddr() string {
	if a.turn == nil {
		return ""
	}
	return a.turnURL
}

func (a *App) stopTURN() {
	if a.turn != nil {
		if err := a.turn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			a.log.Warn("stop turn", "err", err)
		}
	}
}
