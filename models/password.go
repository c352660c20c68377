package models

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Password length limits. The upper bound keeps a hostile form from making
// the server hash megabytes.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// argon2id parameters: the OWASP minimum (19 MiB, 2 passes, 1 lane), about
// 30 ms on one core here, so a 2-core server still answers sign-ins briskly.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// argonCost is a pass count and memory (KiB).
type argonCost struct{ time, memory uint32 }

// productionCost is the parameters above; hashCost is what HashPassword
// uses: productionCost unless UseCheapPasswordHashes lowered it.
var (
	productionCost = argonCost{argonTime, argonMemory}
	hashCost       = productionCost
)

// UseCheapPasswordHashes makes HashPassword use argon2id's smallest cost (1
// pass, 64 KiB) instead of the production one. It is for test binaries only,
// called once before any test runs (TestMain): a suite that creates users and
// signs in hundreds of times otherwise spends much of its CPU hashing. A
// hash records its own parameters, so CheckPassword verifies either kind.
func UseCheapPasswordHashes() { hashCost = argonCost{1, 64} }

// HashPassword returns the argon2id hash of password in the PHC string format,
// which records its own parameters so they can be raised later.
func HashPassword(password string) (string, error) { return hashWith(hashCost, password) }

func hashWith(cost argonCost, password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, cost.time, cost.memory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, cost.memory, cost.time, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches a hash made by HashPassword.
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if errors.Join(err1, err2) != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked against when the email is unknown, so an unknown
// account takes as long to refuse as a wrong password.
var dummyHash, _ = HashPassword("parley-timing-equaliser")

func validatePassword(v *ValidationError, field, password string) {
	switch n := len([]rune(password)); {
	case strings.TrimSpace(password) == "":
		v.Add(field, "password_required", nil)
	case n < MinPasswordLen:
		v.Add(field, "password_too_short", map[string]any{"Min": MinPasswordLen})
	case len(password) > MaxPasswordLen:
		v.Add(field, "password_too_long", map[string]any{"Max": MaxPasswordLen})
	}
}

// ChangePassword sets u's new password only when current is u's present
// one (a stolen session alone cannot take over the account); a wrong
// current password is a ValidationError on current_password.
func ChangePassword(ctx context.Context, t Tx, u *User, current, password string) error {
	if !CheckPassword(u.PasswordHash, current) {
		return Invalid("current_password", "current_password_wrong", nil)
	}
	return SetPassword(ctx, t, u.ID, password)
}
