package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Knowledge-base articles: short Markdown texts admins write in one of the
// desk's languages (Languages), published or draft. Agents search published
// ones and send one into a customer conversation (SendArticle), where the
// customer sees a card that opens it on its public page; the widget searches
// them before a chat starts. Who may see and manage them is in access.go
// (CanManageArticles, Article.VisibleToCustomer); Markdown is rendered by
// RenderArticle (kb_markdown.go).

// Article limits, in characters (the table's CHECKs say the same).
const (
	MaxArticleTitleLen = 150
	MaxArticleBodyLen  = 20000
	MaxArticleSlugLen  = 80
)

// Article actions recorded in ArticleEvent.
const (
	ArticleCreated = "created"
	ArticleUpdated = "updated"
	ArticleDeleted = "deleted"
)

// Article is a knowledge-base article.
type Article struct {
	ID        int64
	Slug      string
	Language  string
	Title     string
	Body      string // Markdown; shown only through RenderArticle
	Published bool
	CreatedBy *int64
	UpdatedBy *int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName maps Article to kb_articles.
func (Article) TableName() string { return "kb_articles" }

// articleColumns are the stored columns GORM reads (never the generated
// search vector).
var articleColumns = []string{"id", "slug", "language", "title", "body", "published", "created_by", "updated_by", "created_at", "updated_at"}

// ArticleInput is what an admin submits for an article. An empty Slug is
// made from the title (Slugify).
type ArticleInput struct {
	Title     string
	Slug      string
	Body      string
	Language  string
	Published bool
}

// Slugify makes a URL slug from s: lower-case ASCII letters and digits
// joined by single hyphens, accents dropped ("Réinitialiser où ?" becomes
// "reinitialiser-ou"), at most MaxArticleSlugLen characters, cut at a
// hyphen where possible. It may return "" (a title of symbols only).
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // the accent of a decomposed letter
		case r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
	}
	out := b.String()
	if len(out) > MaxArticleSlugLen {
		out = out[:MaxArticleSlugLen]
		if i := strings.LastIndexByte(out, '-'); i > MaxArticleSlugLen/2 {
			out = out[:i]
		}
		out = strings.TrimRight(out, "-")
	}
	return out
}

// validSlug reports whether s is a slug as Slugify makes them.
func validSlug(s string) bool {
	if s == "" || len(s) > MaxArticleSlugLen || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// ArticleLanguage returns the article language of a BCP 47 tag (a
// conversation's or a browser's): "pt", "pt-PT" and "pt-BR" are pt-BR,
// "fr-CA" is fr, "en-GB" is en; "" for the rest.
func ArticleLanguage(tag string) string {
	primary := strings.ToLower(strings.SplitN(strings.ReplaceAll(tag, "_", "-"), "-", 2)[0])
	for _, l := range Languages {
		if strings.ToLower(strings.SplitN(l, "-", 2)[0]) == primary {
			return l
		}
	}
	return ""
}

// normalize trims in and checks it; the result is what is stored.
func (in ArticleInput) normalize() (ArticleInput, error) {
	v := &ValidationError{}
	in.Title = strings.TrimSpace(in.Title)
	in.Body = strings.TrimSpace(strings.ReplaceAll(in.Body, "\r\n", "\n"))
	in.Slug = strings.TrimSpace(in.Slug)
	switch n := utf8.RuneCountInString(in.Title); {
	case n == 0:
		v.Add("title", "kb_title_required", nil)
	case n > MaxArticleTitleLen:
		v.Add("title", "kb_title_too_long", map[string]any{"Max": MaxArticleTitleLen, "Count": n})
	}
	switch n := utf8.RuneCountInString(in.Body); {
	case n == 0:
		v.Add("body", "kb_body_required", nil)
	case n > MaxArticleBodyLen:
		v.Add("body", "kb_body_too_long", map[string]any{"Max": MaxArticleBodyLen, "Count": n})
	}
	if in.Slug == "" {
		in.Slug = Slugify(in.Title)
		if in.Slug == "" && in.Title != "" {
			v.Add("slug", "kb_slug_required", nil)
		}
	} else if !validSlug(in.Slug) {
		v.Add("slug", "kb_slug_invalid", map[string]any{"Max": MaxArticleSlugLen})
	}
	known := false
	for _, l := range Languages {
		known = known || in.Language == l
	}
	if !known {
		v.Add("language", "kb_language_unknown", nil)
	}
	return in, v.Err()
}

// slugTaken reports whether another article than id (0: none) has slug.
func slugTaken(tx *gorm.DB, slug string, id int64) (bool, error) {
	var n int64
	err := tx.Model(&Article{}).Where("slug = ? AND id <> ?", slug, id).Count(&n).Error
	return n > 0, err
}

// CreateArticle stores a new article by u (an admin: CanManageArticles) and
// records an ArticleEvent. Bad input (empty or too long title or body, a
// malformed or taken slug, a language Parley does not ship) is a
// ValidationError on that field; nothing is stored.
func CreateArticle(ctx context.Context, t Tx, u *User, in ArticleInput) (*Article, error) {
	if !CanManageArticles(u) {
		return nil, ErrForbidden
	}
	in, err := in.normalize()
	if err != nil {
		return nil, err
	}
	a := &Article{Slug: in.Slug, Language: in.Language, Title: in.Title, Body: in.Body, Published: in.Published, CreatedBy: &u.ID, UpdatedBy: &u.ID}
	err = t.run(ctx, func(tx *gorm.DB) error {
		if taken, err := slugTaken(tx, in.Slug, 0); err != nil || taken {
			if taken {
				return Invalid("slug", "kb_slug_taken", nil)
			}
			return err
		}
		if err := tx.Select("Slug", "Language", "Title", "Body", "Published", "CreatedBy", "UpdatedBy").Create(a).Error; err != nil {
			return slugConflict(err)
		}
		return appendEvent(t, Event{Data: ArticleEvent{ArticleID: a.ID, Action: ArticleCreated, ByUserID: u.ID}})
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "create article")
	}
	return a, nil
}

// slugConflict turns the slug index's refusal (two admins saving the same
// slug at once) into the field error the earlier check gives.
func slugConflict(err error) error {
	if isUniqueViolation(err, "kb_articles_slug_idx") {
		return Invalid("slug", "kb_slug_taken", nil)
	}
	return err
}

// UpdateArticle replaces article id's fields (as CreateArticle checks them)
// and records an ArticleEvent. Cards already sent show the new title, and
// turn "unavailable" for customers if it is no longer published.
func UpdateArticle(ctx context.Context, t Tx, u *User, id int64, in ArticleInput) (*Article, error) {
	if !CanManageArticles(u) {
		return nil, ErrForbidden
	}
	in, err := in.normalize()
	if err != nil {
		return nil, err
	}
	var a Article
	err = t.run(ctx, func(tx *gorm.DB) error {
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Select(articleColumns).Take(&a, id).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return ErrNotFound
			}
			return err
		}
		if taken, err := slugTaken(tx, in.Slug, id); err != nil || taken {
			if taken {
				return Invalid("slug", "kb_slug_taken", nil)
			}
			return err
		}
		a.Slug, a.Language, a.Title, a.Body, a.Published, a.UpdatedBy = in.Slug, in.Language, in.Title, in.Body, in.Published, &u.ID
		err := tx.Model(&a).Clauses(clause.Returning{Columns: []clause.Column{{Name: "updated_at"}}}).
			Updates(map[string]any{"slug": a.Slug, "language": a.Language, "title": a.Title, "body": a.Body,
				"published": a.Published, "updated_by": u.ID, "updated_at": gorm.Expr("now()")}).Error
		if err != nil {
			return slugConflict(err)
		}
		return appendEvent(t, Event{Data: ArticleEvent{ArticleID: a.ID, Action: ArticleUpdated, ByUserID: u.ID}})
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "update article %d", id)
	}
	return &a, nil
}

// DeleteArticle deletes article id and records an ArticleEvent. Messages
// that carried it keep their mark (messages.article_sent) with no article:
// their cards say it is no longer available.
func DeleteArticle(ctx context.Context, t Tx, u *User, id int64) error {
	if !CanManageArticles(u) {
		return ErrForbidden
	}
	err := t.run(ctx, func(tx *gorm.DB) error {
		res := tx.Exec("DELETE FROM kb_articles WHERE id = ?", id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return appendEvent(t, Event{Data: ArticleEvent{ArticleID: id, Action: ArticleDeleted, ByUserID: u.ID}})
	})
	return wrapUnlessDomain(err, "delete article %d", id)
}

// FindArticle returns article id for its managers (drafts included); for
// anyone else it does not exist.
func FindArticle(ctx context.Context, db *gorm.DB, u *User, id int64) (*Article, error) {
	if !CanManageArticles(u) {
		return nil, ErrNotFound
	}
	var a Article
	err := db.WithContext(ctx).Select(articleColumns).Take(&a, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("find article %d: %w", id, err)
	}
	return &a, nil
}

// PublicArticle returns the article published under slug, what customers
// and anyone on the web may read (Article.VisibleToCustomer, in its SQL
// form); a draft or unknown slug is ErrNotFound.
func PublicArticle(ctx context.Context, db *gorm.DB, slug string) (*Article, error) {
	if !validSlug(slug) {
		return nil, ErrNotFound
	}
	var a Article
	err := db.WithContext(ctx).Select(articleColumns).Where("slug = ? AND "+articleVisibleToCustomerSQL("kb_articles"), slug).Take(&a).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("public article %q: %w", slug, err)
	}
	return &a, nil
}

// ArticleSearch is a search of articles.
type ArticleSearch struct {
	// Query: words, the last one as a prefix (search as you type); empty
	// lists the newest.
	Query string
	// Language keeps only articles in that language; Prefer ranks them
	// first without dropping the others.
	Language, Prefer string
	// Drafts includes drafts: for their managers only (the admin list).
	Drafts bool
	Limit  int
}

// ArticleHit is a found article with a plain-text excerpt of its body.
type ArticleHit struct {
	Article
	Excerpt string
}

// MaxArticleQueryLen caps a search's text; longer is cut.
const MaxArticleQueryLen = 200

// articleTSQuery is the tsquery of @head (websearch syntax) and @tail (the
// last word, as a prefix) in configuration cfg; head and tail say which of
// the two the search has.
func articleTSQuery(cfg string, head, tail bool) string {
	var parts []string
	if head {
		parts = append(parts, "websearch_to_tsquery('"+cfg+"', @head)")
	}
	if tail {
		parts = append(parts, "to_tsquery('"+cfg+"', @tail)")
	}
	return "(" + strings.Join(parts, " && ") + ")"
}

// articleMatchSQL matches an article (alias a) in its own language, each
// branch with a constant configuration so the GIN index serves it.
func articleMatchSQL(head, tail bool) string {
	return "((a.language = 'en' AND a.search @@ " + articleTSQuery("english", head, tail) +
		") OR (a.language = 'pt-BR' AND a.search @@ " + articleTSQuery("portuguese", head, tail) +
		") OR (a.language = 'fr' AND a.search @@ " + articleTSQuery("french", head, tail) + "))"
}

// splitArticleQuery cuts q into what websearch_to_tsquery reads and the
// last word, kept to letters and digits so it is a safe to_tsquery prefix.
func splitArticleQuery(q string) (head, tail string) {
	q = clip(strings.TrimSpace(q), MaxArticleQueryLen)
	words := strings.Fields(searchWords(q))
	if len(words) == 0 {
		return "", ""
	}
	last := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return ' '
	}, words[len(words)-1])
	lw := strings.Fields(last)
	head = strings.Join(words[:len(words)-1], " ")
	if len(lw) == 0 {
		return strings.Join(words, " "), ""
	}
	head = strings.TrimSpace(head + " " + strings.Join(lw[:len(lw)-1], " "))
	return head, lw[len(lw)-1] + ":*"
}

// SearchArticles finds articles, best match first (titles weigh more),
// then the most recently edited. Without Drafts only published articles
// are searched (Article.VisibleToCustomer): what agents send and the widget
// shows.
func SearchArticles(ctx context.Context, db *gorm.DB, s ArticleSearch) ([]ArticleHit, error) {
	if s.Limit <= 0 || s.Limit > 100 {
		s.Limit = 20
	}
	head, tail := splitArticleQuery(s.Query)
	where := []string{"true"}
	if !s.Drafts {
		where = append(where, articleVisibleToCustomerSQL("a"))
	}
	if s.Language != "" {
		where = append(where, "a.language = @lang")
	}
	rank := "0::real"
	if h, t := head != "", tail != ""; h || t {
		where = append(where, articleMatchSQL(h, t))
		rank = "ts_rank(a.search, CASE a.language WHEN 'en' THEN " + articleTSQuery("english", h, t) +
			" WHEN 'pt-BR' THEN " + articleTSQuery("portuguese", h, t) + " ELSE " + articleTSQuery("french", h, t) + " END)"
	} else if strings.TrimSpace(s.Query) != "" {
		return nil, nil // only syntax characters: nothing to search for
	}
	var rows []Article
	err := db.WithContext(ctx).Raw(`SELECT a.id, a.slug, a.language, a.title, a.body, a.published, a.created_by, a.updated_by, a.created_at, a.updated_at
		FROM kb_articles a WHERE `+strings.Join(where, " AND ")+`
		ORDER BY (a.language = @prefer) DESC, `+rank+` DESC, a.updated_at DESC, a.id DESC LIMIT @limit`,
		map[string]any{"head": head, "tail": tail, "lang": s.Language, "prefer": s.Prefer, "limit": s.Limit}).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("search articles: %w", err)
	}
	hits := make([]ArticleHit, len(rows))
	for i := range rows {
		hits[i] = ArticleHit{Article: rows[i], Excerpt: ArticleExcerpt(rows[i].Body, 160)}
	}
	return hits, nil
}

// ArticleRef is the article a message carries, as its card shows it now
// (loadArticles): the current title and slug, and whether customers may
// still open it. A message whose article was deleted has none (Message.Article
// nil with ArticleSent set).
type ArticleRef struct {
	ID        int64
	Slug      string
	Title     string
	Language  string
	Excerpt   string
	Published bool
}

// loadArticles fills Article of the messages among ms that carry one (one
// query, none when no message does).
func loadArticles(ctx context.Context, db *gorm.DB, ms []*Message) error {
	var ids []int64
	for _, m := range ms {
		m.Article = nil
		if m.ArticleID != nil {
			ids = append(ids, *m.ArticleID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []Article
	if err := db.WithContext(ctx).Select(articleColumns).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return fmt.Errorf("load articles: %w", err)
	}
	byID := map[int64]*ArticleRef{}
	for _, a := range rows {
		byID[a.ID] = &ArticleRef{ID: a.ID, Slug: a.Slug, Title: a.Title, Language: a.Language, Published: a.Published, Excerpt: ArticleExcerpt(a.Body, 160)}
	}
	for _, m := range ms {
		if m.ArticleID != nil {
			m.Article = byID[*m.ArticleID]
		}
	}
	return nil
}

// SendArticle sends published article articleID to conv's customer: a reply
// by user whose text is the article's title (what previews, notifications,
// emails and transcripts say) and which carries the article, shown as a card
// that opens its public page. Only support staff who may see conv
// (CanSendArticle), only customer conversations, only published articles
// (a draft, deleted or unknown one is a ValidationError on "article");
// key is the composer's idempotency key (may be empty).
func SendArticle(ctx context.Context, t Tx, user *User, conv *Conversation, articleID int64, key string) (*Message, error) {
	if user == nil {
		return nil, errors.New("send article: no user")
	}
	if !CanSeeConversation(user, conv, true) {
		return nil, ErrNotFound
	}
	if conv.Kind != KindCustomer || !CanSendArticle(user, conv) {
		return nil, Invalid("article", "kb_customer_only", nil)
	}
	var msg *Message
	err := t.run(ctx, func(tx *gorm.DB) error {
		var a Article
		err := tx.Select(articleColumns).Clauses(clause.Locking{Strength: "SHARE"}).
			Where("id = ? AND "+articleVisibleToCustomerSQL("kb_articles"), articleID).Take(&a).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Invalid("article", "kb_article_unavailable", nil)
		}
		if err != nil {
			return err
		}
		msg, err = PostMessageWithOpts(ctx, t, Actor{User: user}, conv, MessageText, a.Title, PostOpts{IdempotencyKey: key})
		if err != nil || msg.Replayed {
			return err
		}
		if err := tx.Exec("UPDATE messages SET article_sent = true, article_id = ? WHERE id = ?", a.ID, msg.ID).Error; err != nil {
			return err
		}
		msg.ArticleSent, msg.ArticleID = true, &a.ID
		msg.Article = &ArticleRef{ID: a.ID, Slug: a.Slug, Title: a.Title, Language: a.Language, Published: a.Published, Excerpt: ArticleExcerpt(a.Body, 160)}
		return nil
	})
	if err != nil {
		return nil, wrapUnlessDomain(err, "send article %d in conversation %d", articleID, conv.ID)
	}
	return msg, nil
}

// ArticleMessages are the messages of conv that carry an article and that
// its customer sees, with their articles as they are now: what a widget
// shows again when an article changes.
func ArticleMessages(ctx context.Context, db *gorm.DB, conv *Conversation) ([]*Message, error) {
	var ms []*Message
	err := db.WithContext(ctx).Joins("AuthorUser").Joins("AuthorCustomer").
		Where("messages.conversation_id = ? AND messages.article_sent AND messages.deleted_at IS NULL", conv.ID).
		Where(customerSeesMessageSQL("messages"), map[string]any{"customer_events": customerEvents}).
		Order("messages.id").Limit(200).Find(&ms).Error
	if err != nil {
		return nil, fmt.Errorf("article messages of conversation %d: %w", conv.ID, err)
	}
	if err := loadArticles(ctx, db, ms); err != nil {
		return nil, err
	}
	return ms, nil
}
