package models

import (
	"bytes"
	"fmt"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// File categories: what the desk's type limits allow (DeskSettings.FileTypes)
// and how threads show a file. A file's category comes from its content
// (ClassifyFile), never from its name alone.
const (
	FileImage    = "image"
	FileAudio    = "audio"
	FileVideo    = "video"
	FilePDF      = "pdf"
	FileText     = "text"
	FileDocument = "document" // office documents (OOXML, OpenDocument, OLE)
	FileArchive  = "archive"
	FileOther    = "other" // anything else, HTML and SVG included: downloaded, never shown
)

// FileCategories lists the categories in the order the admin page shows
// them.
var FileCategories = []string{FileImage, FileAudio, FileVideo, FilePDF, FileText, FileDocument, FileArchive, FileOther}

// SniffLen is how many leading bytes ClassifyFile looks at: the upload
// handler reads this much before anything is stored, so a forbidden or
// contradictory file is refused without reading the rest.
const SniffLen = 512

// MaxFileNameLen caps a file's name, in characters.
const MaxFileNameLen = 255

// inlineTypes are the content types shown in the page (thumbnails, players)
// and served inline: formats browsers render without running anything.
// Everything else is served as an attachment.
var inlineTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"audio/mpeg": true, "audio/wave": true, "audio/ogg": true, "audio/mp4": true, "audio/webm": true,
	"audio/flac": true, "audio/aac": true,
	"video/mp4": true, "video/webm": true, "video/ogg": true,
}

// InlineSafe reports whether contentType may be shown in the page and
// served inline (images, audio and video browsers play natively).
func InlineSafe(contentType string) bool { return inlineTypes[contentType] }

// extCategory is what a name's extension claims. Extensions not listed
// claim nothing, so only the content decides.
var extCategory = map[string]string{
	"png": FileImage, "jpg": FileImage, "jpeg": FileImage, "gif": FileImage, "webp": FileImage,
	"mp3": FileAudio, "wav": FileAudio, "oga": FileAudio, "opus": FileAudio, "m4a": FileAudio,
	"aac": FileAudio, "flac": FileAudio, "weba": FileAudio, "ogg": FileAudio,
	"mp4": FileVideo, "m4v": FileVideo, "webm": FileVideo, "ogv": FileVideo, "mov": FileVideo, "avi": FileVideo,
	"pdf": FilePDF,
	"txt": FileText, "log": FileText, "csv": FileText, "md": FileText, "json": FileText, "yaml": FileText, "yml": FileText,
	"docx": FileDocument, "xlsx": FileDocument, "pptx": FileDocument, "odt": FileDocument, "ods": FileDocument,
	"odp": FileDocument, "doc": FileDocument, "xls": FileDocument, "ppt": FileDocument,
	"zip": FileArchive, "gz": FileArchive, "tgz": FileArchive, "tar": FileArchive, "7z": FileArchive, "rar": FileArchive,
	"html": FileOther, "htm": FileOther, "svg": FileOther, "xml": FileOther, "xhtml": FileOther, "js": FileOther,
	"exe": FileOther,
}

// documentTypes are the content types of office documents by extension
// (their content sniffs as a ZIP or OLE container).
var documentTypes = map[string]string{
	"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	"pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	"odt":  "application/vnd.oasis.opendocument.text",
	"ods":  "application/vnd.oasis.opendocument.spreadsheet",
	"odp":  "application/vnd.oasis.opendocument.presentation",
	"doc":  "application/msword",
	"xls":  "application/vnd.ms-excel",
	"ppt":  "application/vnd.ms-powerpoint",
}

// fileExt is name's lower-case extension without the dot.
func fileExt(name string) string {
	return strings.ToLower(strings.TrimPrefix(path.Ext(name), "."))
}

// CleanFileName makes an uploaded file's name safe to store and show: the
// last path element only, control and format characters dropped, spaces
// trimmed, at most MaxFileNameLen characters (the extension kept). An empty
// result is a ValidationError.
func CleanFileName(name string) (string, error) {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." {
		return "", Invalid("file", "file_name_missing", nil)
	}
	if utf8.RuneCountInString(name) > MaxFileNameLen {
		ext := path.Ext(name)
		if utf8.RuneCountInString(ext) > 16 {
			ext = ""
		}
		r := []rune(strings.TrimSuffix(name, ext))
		name = string(r[:MaxFileNameLen-utf8.RuneCountInString(ext)]) + ext
	}
	return name, nil
}

// ClassifyFile decides an upload's content type and category from its
// first bytes (head, up to SniffLen) with http.DetectContentType and a few
// signatures it lacks; the name only has to agree. A file whose content
// contradicts its name (a ".png" that is a PDF, a ".txt" that is HTML or
// binary) is a ValidationError on "file" (file_type_mismatch). HTML, XML
// and SVG, which a browser would run, are "other", served as
// application/octet-stream.
func ClassifyFile(name string, head []byte) (contentType, category string, err error) {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	ext := fileExt(name)
	contentType, category = sniff(head, ext)
	claimed, known := extCategory[ext]
	if !known {
		return contentType, category, nil
	}
	switch {
	case claimed == category:
	// Containers shared by audio and video (MP4, WebM, Ogg): the name
	// says which.
	case claimed == FileAudio && category == FileVideo:
		contentType, category = strings.Replace(contentType, "video/", "audio/", 1), FileAudio
	case claimed == FileVideo && category == FileAudio && contentType == "audio/ogg":
		contentType, category = "video/ogg", FileVideo
	// Formats DetectContentType does not know (AVI is known; MOV, RAR, 7z
	// partly) are left to their name's category only when the content
	// claims nothing either: then it is served as a plain download.
	case category == FileOther && contentType == "application/octet-stream" &&
		(claimed == FileAudio || claimed == FileVideo || claimed == FileArchive || claimed == FileDocument):
		category = FileOther
	default:
		return "", "", Invalid("file", "file_type_mismatch", map[string]any{"Name": name, "Type": category})
	}
	return contentType, category, nil
}

// sniff maps the leading bytes to a content type and category.
func sniff(head []byte, ext string) (string, string) {
	ct := http.DetectContentType(head)
	base, _, _ := strings.Cut(ct, ";")
	switch {
	case bytes.HasPrefix(head, []byte("fLaC")):
		return "audio/flac", FileAudio
	case len(head) > 262 && string(head[257:262]) == "ustar":
		return "application/x-tar", FileArchive
	case bytes.HasPrefix(head, []byte("7z\xbc\xaf\x27\x1c")):
		return "application/x-7z-compressed", FileArchive
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")): // OLE: old Office files
		if t, ok := documentTypes[ext]; ok {
			return t, FileDocument
		}
		return "application/octet-stream", FileOther
	case len(head) >= 2 && head[0] == 0xff && (head[1]&0xf6) == 0xf0: // AAC in ADTS frames
		return "audio/aac", FileAudio
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		brand := string(head[8:12])
		switch {
		case brand == "M4A " || brand == "M4B ":
			return "audio/mp4", FileAudio
		case brand == "qt  ":
			return "video/quicktime", FileVideo
		}
		return "video/mp4", FileVideo
	}
	switch base {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/x-icon":
		return base, FileImage
	case "audio/mpeg", "audio/wave", "audio/aiff", "audio/basic", "audio/midi":
		return base, FileAudio
	case "application/ogg":
		// Ogg carries audio or video; the name says which (ClassifyFile
		// turns audio into video for .ogv).
		return "audio/ogg", FileAudio
	case "video/mp4", "video/webm", "video/avi":
		return base, FileVideo
	case "application/pdf":
		return base, FilePDF
	case "text/plain":
		return "text/plain; charset=utf-8", FileText
	case "application/zip":
		if t, ok := documentTypes[ext]; ok && strings.HasPrefix(t, "application/vnd.o") {
			return t, FileDocument
		}
		return base, FileArchive
	case "application/x-gzip", "application/x-rar-compressed":
		return base, FileArchive
	}
	// HTML, XML (SVG), scripts, fonts, executables and unknown bytes.
	return "application/octet-stream", FileOther
}

// FormatBytes writes a size for people: "512 B", "1.5 KB", "25 MB".
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + string("KMGTP"[exp]) + "B"
}
