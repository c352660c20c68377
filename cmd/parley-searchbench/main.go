// Command parley-searchbench measures Parley's full-text search at scale: it
// seeds a desk with customer conversations whose messages are drawn from a
// skewed vocabulary (a few words in most messages, most words in few), plus
// a handful of rare words, runs the search indexer to catch up
// (models.IndexSearch, as the search_index job does), then runs
// models.Search for common, rare and missing words, with and without
// filters, and prints p50/p95/max of each.
//
//	go run ./cmd/parley-searchbench                            (1,000,000 messages in a temporary database)
//	go run ./cmd/parley-searchbench -data /tmp/sb              (keep the seeded database for the next run)
//	go run ./cmd/parley-searchbench -messages 10000000 -data /tmp/sb10m
//
// DATABASE_URL points it at an existing server instead (its database is
// emptied and seeded).
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gorm.io/gorm"

	"github.com/parleydesk/parley/internal/benchdb"
	"github.com/parleydesk/parley/models"
)

type options struct {
	messages int
	perConv  int
	runs     int
	dataDir  string
	reseed   bool
}

func main() {
	var o options
	flag.IntVar(&o.messages, "messages", 1_000_000, "messages to seed")
	flag.IntVar(&o.perConv, "per-conversation", 10, "messages per conversation")
	flag.IntVar(&o.runs, "runs", 200, "measured searches per case")
	flag.StringVar(&o.dataDir, "data", "", "directory for the private PostgreSQL (default: a temporary one); a seeded one is reused")
	flag.BoolVar(&o.reseed, "reseed", false, "seed again even if the database already holds a seed of this size")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "parley-searchbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	bdb, err := benchdb.Open(ctx, benchdb.Options{Name: "parley-searchbench", DataDir: o.dataDir,
		// A server sized for ten million messages; wal_level=minimal lets
		// the seed's one transaction write its tables without WAL.
		Settings: []string{"shared_buffers=2GB", "wal_level=minimal", "max_wal_senders=0", "max_wal_size=16GB", "checkpoint_timeout=30min"}})
	if err != nil {
		return err
	}
	defer bdb.Close()
	db := bdb.Gorm
	if o.reseed || !seeded(ctx, db, o) {
		if err := seed(ctx, db, o); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	} else {
		fmt.Println("parley-searchbench: reusing the seeded database")
	}
	// Catch up (the first run indexes everything), then one incremental
	// run over nothing new, as the periodic job would.
	for i := 0; i < 2; i++ {
		t := time.Now()
		st, err := models.IndexSearch(ctx, db)
		if err != nil {
			return err
		}
		fmt.Printf("parley-searchbench: indexer run %d: full=%v written=%d in %.1f s\n", i+1, st.Full, st.Written, time.Since(t).Seconds())
	}
	if err := db.WithContext(ctx).Exec("VACUUM ANALYZE search_documents").Error; err != nil {
		return err
	}
	var viewer models.User
	if err := db.Where("email = ?", "agent1@bench.example").Take(&viewer).Error; err != nil {
		return fmt.Errorf("bench viewer: %w", err)
	}
	var docs int64
	db.Raw("SELECT count(*) FROM search_documents WHERE kind = 'message'").Scan(&docs)
	fmt.Printf("\nmodels.Search time, %d runs per row (words rotate within each case), %d documents, viewer %s\n\n", o.runs, docs, viewer.Email)
	words := map[string][]string{
		"common":  {"order", "account", "delivery", "commande", "pedido"},
		"rare":    rareWords,
		"missing": {"xylophonic", "zzyzx", "qwertyuiop", "blorptastic", "frumious"},
		"name":    {"Dupont", "Silva", "Smith", "Rousseau", "Oliveira"},
	}
	pick := func(sql string, args ...any) ([]string, error) {
		var ws []string
		err := db.WithContext(ctx).Raw(sql, args...).Scan(&ws).Error
		return ws, err
	}
	// Made-up words a little above the probe's thresholds (1,000 matches,
	// 5,000 with a filter): the walk of the newest documents is longest
	// for them. Word k is in about 12·N/(k·ln V) of N messages.
	for _, c := range []struct {
		name   string
		target float64
	}{{"medium", 2500}, {"medium-5k", 10000}} {
		k := int(12 * float64(docs) / (c.target * math.Log(vocabSize)))
		if k <= 40 {
			continue
		}
		if words[c.name], err = pick(`SELECT `+wordSQL("k", "0")+` FROM generate_series(?::int, ? + 4) k`, k, k); err != nil {
			return err
		}
	}
	// Emails of customers, conversation numbers and order numbers written
	// in messages.
	if words["email"], err = pick(`SELECT email FROM customers WHERE id % (SELECT greatest(1, count(*) / 5) FROM customers) = 1 LIMIT 5`); err != nil {
		return err
	}
	if words["conv number"], err = pick(`SELECT '#' || id FROM conversations WHERE id % (SELECT greatest(1, count(*) / 5) FROM conversations) = 3 LIMIT 5`); err != nil {
		return err
	}
	if words["order number"], err = pick(`SELECT substring(body from '[0-9]{6}') FROM messages
		WHERE id BETWEEN (SELECT max(id) / 2 FROM messages) AND (SELECT max(id) / 2 + 5000 FROM messages) AND body ~ '[0-9]{6}' LIMIT 5`); err != nil {
		return err
	}
	for _, kind := range kinds {
		fmt.Printf("  %-12s %s (matching messages: %s)\n", kind, strings.Join(words[kind], ", "), matches(ctx, db, words[kind]))
	}
	fmt.Println()
	fmt.Printf("%-12s %-14s %-7s %6s %9s %9s %9s\n", "words", "filters", "plan", "hits", "p50", "p95", "p99")
	from := time.Now().AddDate(0, 0, -7).UTC().Truncate(24 * time.Hour)
	to := time.Now().UTC().Truncate(24 * time.Hour)
	filters := []struct {
		name string
		set  func(*models.SearchQuery)
	}{
		{"none", func(*models.SearchQuery) {}},
		{"status=open", func(q *models.SearchQuery) { q.Status = models.StatusOpen }},
		{"assignee=me", func(q *models.SearchQuery) { q.Assignee = "me" }},
		{"team+channel", func(q *models.SearchQuery) { q.Team = teamID(ctx, db); q.Channel = "widget" }},
		{"last 7 days", func(q *models.SearchQuery) { q.From, q.To = &from, &to }},
		{"page 2", nil},
	}
	for _, kind := range kinds {
		if len(words[kind]) == 0 {
			continue
		}
		for _, f := range filters {
			var ds []time.Duration
			var plan string
			hits := 0
			for i := range o.runs + 10 {
				q := models.SearchQuery{Q: words[kind][i%len(words[kind])], Viewer: &viewer, Limit: 20}
				if f.set != nil {
					f.set(&q)
				} else {
					r, err := models.Search(ctx, db, q)
					if err != nil {
						return err
					}
					q.After = r.Older
					if q.After == nil {
						continue
					}
				}
				t := time.Now()
				r, err := models.Search(ctx, db, q)
				if err != nil {
					return fmt.Errorf("%s %s: %w", kind, f.name, err)
				}
				if i >= 10 { // warm-up
					ds = append(ds, time.Since(t))
				}
				plan, hits = r.Plan, len(r.Hits)+len(r.ByCustomer)
				if r.Exact != nil {
					hits++
				}
			}
			if len(ds) == 0 {
				fmt.Printf("%-12s %-14s (no second page)\n", kind, f.name)
				continue
			}
			slices.Sort(ds)
			fmt.Printf("%-12s %-14s %-7s %6d %9s %9s %9s\n", kind, f.name, plan, hits, ms(pct(ds, 50)), ms(pct(ds, 95)), ms(pct(ds, 99)))
		}
	}
	return nil
}

// kinds are the cases measured, in order.
var kinds = []string{"common", "medium", "medium-5k", "rare", "missing", "name", "email", "conv number", "order number"}

// matches counts the messages that match each word (in any configuration,
// as Search parses it), up to 100,000 (a common word's count would take
// longer than its searches).
func matches(ctx context.Context, db *gorm.DB, ws []string) string {
	var out []string
	for _, w := range ws {
		var n int64
		db.WithContext(ctx).Raw(`SELECT count(*) FROM (SELECT 1 FROM search_documents d WHERE d.kind = 'message' AND d.tsv @@ (
			SELECT tsquery_or_agg FROM (SELECT string_agg(DISTINCT '(' || q::text || ')', ' | ')::tsquery AS tsquery_or_agg
			FROM unnest(ARRAY['simple','english','french','portuguese']::regconfig[]) c, websearch_to_tsquery(c, ?) q WHERE q::text <> '') x)
			LIMIT 100001) s`, w).Scan(&n)
		if n > 100000 {
			out = append(out, "over 100000")
		} else {
			out = append(out, strconv.FormatInt(n, 10))
		}
	}
	return strings.Join(out, ", ")
}

func teamID(ctx context.Context, db *gorm.DB) int64 {
	var id int64
	db.WithContext(ctx).Raw("SELECT min(id) FROM teams").Scan(&id)
	return id
}

func pct(d []time.Duration, p float64) time.Duration { return d[int(float64(len(d)-1)*p/100)] }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func seeded(ctx context.Context, db *gorm.DB, o options) bool {
	var n int
	err := db.WithContext(ctx).Raw(`SELECT count(*) FROM messages`).Scan(&n).Error
	return err == nil && n == o.messages/o.perConv*o.perConv
}

// The vocabulary: word k (1 the most frequent) of language l (0 English,
// 1 French, 2 Portuguese, 3 unknown: English words read by the simple
// configuration). A message's words are drawn with P(k) ≈ 1/(k ln V)
// (Zipf, s = 1: k = ⌊e^(u ln(V+1))⌋, u uniform), so the few head words
// are in a good part of all messages and most of the V words in a handful.
// The 40 head words are each language's own; the rest are made-up words
// (product names, codes) shared by all languages.
const vocabSize = 100_000

var headWords = [3]string{
	`'the','order','please','my','account','delivery','parcel','hello','thanks','help','invoice','refund','password','login',
	 'shipping','payment','card','address','email','tracking','return','product','price','discount','support','still',
	 'waiting','week','today','problem','error','cannot','received','cancel','subscription','update','phone','number','size','colour'`,
	`'le','commande','merci','mon','compte','livraison','colis','bonjour','aide','facture','remboursement','mot','passe',
	 'connexion','expédition','paiement','carte','adresse','courriel','suivi','retour','produit','prix','remise','service',
	 'toujours','attente','semaine','aujourd''hui','problème','erreur','impossible','reçu','annuler','abonnement','mise',
	 'téléphone','numéro','taille','couleur'`,
	`'o','pedido','obrigado','minha','conta','entrega','pacote','olá','ajuda','fatura','reembolso','senha','acesso','envio',
	 'pagamento','cartão','endereço','correio','rastreio','devolução','produto','preço','desconto','suporte','ainda',
	 'esperando','semana','hoje','problema','erro','consigo','recebi','cancelar','assinatura','atualizar','telefone',
	 'número','tamanho','cor','loja'`,
}

// wordSQL is the SQL expression of word k (an integer expression) in
// language l (an integer expression, 0-3).
func wordSQL(k, l string) string {
	return `CASE WHEN ` + k + ` <= 40 THEN (CASE ` + l + ` WHEN 1 THEN ARRAY[` + headWords[1] + `] WHEN 2 THEN ARRAY[` + headWords[2] + `]
		ELSE ARRAY[` + headWords[0] + `] END)[` + k + `]
	ELSE (ARRAY['ka','lo','mi','tu','ru','no','sa','vi','po','de','ga','zu','fe','bo','ti','ne'])[1 + ` + k + ` % 16]
	  || (ARRAY['ra','le','mo','ki','su','pa','do','ni','ve','ta','lu','ko','ze','ba','ri','go'])[1 + ` + k + ` / 16 % 16]
	  || (ARRAY['n','r','l','x','k','m','t','z'])[1 + ` + k + ` / 256 % 8]
	  || CASE WHEN ` + k + ` >= 2048 THEN (ARRAY['ad','ob','ix','ur','em','ol','av','ep'])[1 + ` + k + ` / 2048 % 8] ELSE '' END
	  || CASE WHEN ` + k + ` >= 16384 THEN (ARRAY['a','o','i','u','e','y','an','on'])[1 + ` + k + ` / 16384 % 8] ELSE '' END
	END`
}

// rareWords are each in one message of 20,000.
var rareWords = []string{"quokka", "narwhal", "axolotl", "pangolin", "okapi"}

const firstNames = `'Marie','Jean','Ana','João','Emma','Lucas','Julia','Pedro','Chloé','Louis','Sophie','Paul','Camille','Hugo','Laura',
	'Gabriel','Beatriz','Rafael','Olivia','James','Mary','John','Sarah','David','Léa','Thomas','Mariana','Carlos','Alice','Pierre'`

const lastNames = `'Dupont','Martin','Bernard','Durand','Lefebvre','Moreau','Silva','Santos','Oliveira','Souza','Pereira','Costa',
	'Smith','Johnson','Williams','Brown','Jones','Miller','Davis','Wilson','Taylor','Clark','Lewis','Walker','Hall','Young',
	'Girard','Bonnet','Lambert','Fontaine','Rousseau','Vincent','Ferreira','Almeida','Carvalho','Gomes','Ribeiro','Martins','Rocha','Lima'`

// seed empties the desk and fills it in one transaction: 50 support
// agents in 5 teams, customers (one for two conversations), conversations
// (one in five open, most assigned, in English, French, Portuguese or no
// known language; one a minute up to now) of o.perConv messages each, and
// the search documents of those messages and customers.
//
// It is written for speed (10,000,000 messages in minutes, not hours):
// set-based statements with explicit ids, message texts drawn from a pool of
// one distinct text per ten messages (a conversation of language l draws
// from the pool's texts in l; a text is repeated about ten times over the
// years, spread out, like the many "where is my order" of a real desk) whose
// search vectors are computed once per text, the secondary indexes of the
// loaded tables dropped first and rebuilt after, foreign-key triggers off
// (session_replication_role: every row is made consistent by construction),
// and, with the private server's wal_level=minimal, no WAL for tables
// truncated in the same transaction.
func seed(ctx context.Context, db *gorm.DB, o options) error {
	start := time.Now()
	convs := max(1, o.messages/o.perConv)
	pool := max(4000, convs*o.perConv/10) / 4 * 4
	loaded := []string{"conversations", "messages", "customers", "search_documents"}
	var indexes []struct{ Name, Def string }
	msgs := convs * o.perConv
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"settings", `SET LOCAL session_replication_role = replica; SET LOCAL maintenance_work_mem = '2GB'; SET LOCAL work_mem = '1GB'; SET LOCAL temp_buffers = '1GB'`, nil},
		{"empty", `TRUNCATE users, teams, customers, conversations, events, search_documents, river_job RESTART IDENTITY CASCADE`, nil},
		{"drop indexes", "", nil},
		{"desk", `INSERT INTO desk_settings (id) VALUES (1) ON CONFLICT DO NOTHING`, nil},
		{"agents", `INSERT INTO users (name, email, role, customer_support)
			SELECT 'Agent ' || g, 'agent' || g || '@bench.example', 'agent', true FROM generate_series(1, 50) g`, nil},
		{"teams", `INSERT INTO teams (name) SELECT 'Team ' || g FROM generate_series(1, 5) g`, nil},
		{"customers", `INSERT INTO customers (id, name, email, created_at)
			OVERRIDING SYSTEM VALUE
			SELECT g, f || ' ' || l, lower(f || '.' || l || g || '@' || (ARRAY['example.com','mail.example','exemplo.com.br','exemple.fr'])[1 + g % 4]),
			       now() - (? - 2 * g) * interval '1 minute'
			FROM generate_series(1, ?) g,
			     LATERAL (SELECT (ARRAY[` + firstNames + `])[1 + (g::bigint * 7919) % 30] AS f,
			                     (ARRAY[` + lastNames + `])[1 + (g::bigint * 104729) % 40] AS l) n`, []any{convs, max(1, convs/2)}},
		{"conversations", `
			INSERT INTO conversations (id, kind, status, customer_id, assignee_id, team_id, language, last_message_id, last_message_at,
			                           last_message_preview, closed_at, created_at, updated_at)
			OVERRIDING SYSTEM VALUE
			SELECT g, 'customer', s.st, 1 + g % (SELECT count(*) FROM customers), CASE WHEN g % 10 < 2 THEN NULL ELSE 1 + (g / 10) % 50 END,
			       1 + g % 5, (ARRAY['en', 'fr', 'pt-BR', ''])[1 + g % 4], g * ?,
			       s.t, '', CASE WHEN s.st = 'closed' THEN s.t END, s.t - interval '1 hour', s.t
			FROM generate_series(1, ?) g,
			     LATERAL (SELECT CASE WHEN g % 5 = 0 THEN 'open' ELSE 'closed' END AS st,
			                     now() - (? - g) * interval '1 minute' AS t) s`, []any{o.perConv, convs, convs}},
		// The pool: text p is in language p % 4, 12 words, and one in ten
		// ends with a six-digit order number.
		{"text pool", `CREATE TEMP TABLE pool ON COMMIT DROP AS
			SELECT p, body, to_tsvector(search_config((ARRAY['en', 'fr', 'pt-BR', ''])[1 + p % 4]), body) AS tsv
			FROM (SELECT p, (SELECT string_agg(` + wordSQL("w.k", "p % 4") + `, ' ')
			                 FROM (SELECT least(?, floor(exp(random() * ln(? + 1)))::int + x * 0) AS k FROM generate_series(1, 12) x) w)
			                || CASE WHEN p % 10 = 9 THEN ' ' || (100000 + (p::bigint * 7919) % 900000) ELSE '' END AS body
			      FROM generate_series(0, ? - 1) p) s`, []any{vocabSize, vocabSize, pool}},
		{"analyze pool", `ANALYZE pool`, nil},
		// Message k of conversation c (id (c-1)·perConv + k) takes a text
		// of c's language; customer and agent take turns.
		{"messages", `
			INSERT INTO messages (id, conversation_id, kind, author_type, author_customer_id, author_user_id, body, created_at)
			OVERRIDING SYSTEM VALUE
			SELECT m.id, c.id, 'message', CASE WHEN k % 2 = 1 THEN 'customer' ELSE 'agent' END,
			       CASE WHEN k % 2 = 1 THEN c.customer_id END, CASE WHEN k % 2 = 0 THEN c.assignee_id END,
			       t.body || CASE WHEN m.id % 20000 = 7 THEN ' ' || (ARRAY['quokka','narwhal','axolotl','pangolin','okapi'])[1 + (m.id / 20000) % 5] ELSE '' END,
			       c.last_message_at - (? - k) * interval '10 seconds'
			FROM conversations c CROSS JOIN generate_series(1, ?) k
			CROSS JOIN LATERAL (SELECT (c.id - 1) * ? + k AS id) m
			JOIN pool t ON t.p = (c.id % 4) + 4 * ((m.id * 2654435761) % (? / 4))`, []any{o.perConv, o.perConv, o.perConv, pool}},
		{"message vectors", `
			INSERT INTO search_documents (kind, ref_id, conversation_id, config, tsv, created_at)
			SELECT 'message', m.id, m.conversation_id, search_config(c.language),
			       CASE WHEN m.id % 20000 = 7 THEN to_tsvector(search_config(c.language), m.body) ELSE t.tsv END, m.created_at
			FROM messages m JOIN conversations c ON c.id = m.conversation_id
			JOIN pool t ON t.p = (c.id % 4) + 4 * ((m.id * 2654435761) % (? / 4))`, []any{pool}},
		{"customer vectors", `
			INSERT INTO search_documents (kind, ref_id, customer_id, config, tsv, created_at)
			SELECT 'customer', cu.id, cu.id, 'simple',
			       to_tsvector('simple', cu.name || ' ' || cu.email || ' ' || regexp_replace(cu.email, '[^[:alnum:]]+', ' ', 'g')), cu.created_at
			FROM customers cu`, nil},
		{"sequences", `SELECT setval(pg_get_serial_sequence('conversations', 'id'), (SELECT max(id) FROM conversations)),
			       setval(pg_get_serial_sequence('messages', 'id'), ?),
			       setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers))`, []any{msgs}},
		{"create indexes", "", nil},
	}
	tx := db.WithContext(ctx).Begin()
	if tx.Error != nil {
		return tx.Error
	}
	defer tx.Rollback()
	for _, s := range steps {
		t := time.Now()
		var err error
		switch s.what {
		case "drop indexes":
			// Secondary indexes only (a constraint's index stays), and
			// not the partial indexes the load leaves empty (messages'
			// idempotency keys and articles, item documents): each
			// rebuild would read the whole table for nothing.
			err = tx.Raw(`SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
				FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
				WHERE t.relname IN ? AND t.relnamespace = current_schema()::regnamespace
				  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
				  AND NOT (i.indpred IS NOT NULL AND t.relname = 'messages')
				  AND i.indexrelid::regclass::text <> 'search_documents_item_tsv_idx'`, loaded).Scan(&indexes).Error
			for _, ix := range indexes {
				if err == nil {
					err = tx.Exec("DROP INDEX " + ix.Name).Error
				}
			}
		case "create indexes":
			for _, ix := range indexes {
				if err == nil {
					t := time.Now()
					err = tx.Exec(ix.Def).Error
					fmt.Printf("parley-searchbench:   %-46s %6.1f s\n", ix.Name, time.Since(t).Seconds())
				}
			}
		default:
			err = tx.Exec(s.sql, s.args...).Error
		}
		if err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
		fmt.Printf("parley-searchbench: seeded %-16s %6.1f s\n", s.what, time.Since(t).Seconds())
	}
	if err := tx.Commit().Error; err != nil {
		return err
	}
	// Nothing to index: the documents are written.
	h, err := models.CommittedHorizon(ctx, db)
	if err != nil {
		return err
	}
	if err := db.WithContext(ctx).Exec("UPDATE search_cursor SET indexed_xid = ?", int64(h.XID)).Error; err != nil {
		return err
	}
	t := time.Now()
	if err := db.WithContext(ctx).Exec("VACUUM ANALYZE customers, conversations, messages, search_documents").Error; err != nil {
		return err
	}
	fmt.Printf("parley-searchbench: seeded %-16s %6.1f s\n", "vacuum analyze", time.Since(t).Seconds())
	fmt.Printf("parley-searchbench: seeded %d conversations, %d messages in %.0f s\n", convs, msgs, time.Since(start).Seconds())
	return nil
}
