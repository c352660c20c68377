package views

import (
	"context"
	"html"
	"strings"

	"github.com/parleydesk/parley/models"
)

// AdminWidget is the widget settings page.
type AdminWidget struct {
	Settings *models.DeskSettings
	Form     Form
	// BaseURL is where browsers reach Parley (PARLEY_BASE_URL).
	BaseURL string
}

// SettingsValues fills the settings form from stored settings.
func SettingsValues(ctx context.Context, s *models.DeskSettings) map[string]string {
	b := func(v bool) string {
		if v {
			return "on"
		}
		return ""
	}
	return map[string]string{
		"desk_name": DeskName(ctx, s), "brand_color": s.BrandColor, "greeting": s.Greeting,
		"online_message": s.OnlineMessage, "offline_message": s.OfflineMessage,
		"allowed_origins":         strings.Join(s.AllowedOrigins, "\n"),
		"require_signed_identity": b(s.RequireSignedIdentity), "demo_enabled": b(s.DemoEnabled),
	}
}

// EmbedSnippet is the one tag a site adds to show the widget.
func EmbedSnippet(baseURL string) string {
	return `<script async src="` + html.EscapeString(strings.TrimRight(baseURL, "/")) + `/widget.js"></script>`
}

func identitySnippet(baseURL string) string {
	return `<script>
  window.ParleySettings = {
    user: {
      id: "42",                    // your user id
      email: "ada@example.com",
      name: "Ada Lovelace",
      signature: "…"               // computed on your server, see below
    }
  };
</script>
` + EmbedSnippet(baseURL) + `

<!-- or, without an inline script: -->
<script async src="` + html.EscapeString(strings.TrimRight(baseURL, "/")) + `/widget.js"
  data-user-id="42" data-user-email="ada@example.com"
  data-user-name="Ada Lovelace" data-user-signature="…"></script>`
}

// signingExample is server-side code computing an identity signature.
type signingExample struct {
	Lang, Code string
}

// signingExamples compute models.IdentitySignature in the languages host
// sites are most often written in. They read the secret from the server's
// environment: it must never reach a browser.
var signingExamples = []signingExample{
	{"Go", `import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
)

func parleySignature(userID, email string) string {
	mac := hmac.New(sha256.New, []byte(os.Getenv("PARLEY_WIDGET_SECRET")))
	mac.Write([]byte(userID + ":" + strings.ToLower(email)))
	return hex.EncodeToString(mac.Sum(nil))
}`},
	{"Node.js", `const crypto = require("node:crypto");

function parleySignature(userId, email) {
  return crypto
    .createHmac("sha256", process.env.PARLEY_WIDGET_SECRET)
    .update(userId + ":" + email.toLowerCase())
    .digest("hex");
}`},
	{"PHP", `function parley_signature(string $userId, string $email): string {
    return hash_hmac("sha256", $userId . ":" . strtolower($email), getenv("PARLEY_WIDGET_SECRET"));
}`},
	{"Python", `import hashlib, hmac, os

def parley_signature(user_id: str, email: str) -> str:
    secret = os.environ["PARLEY_WIDGET_SECRET"].encode()
    message = f"{user_id}:{email.lower()}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()`},
}
