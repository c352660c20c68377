package views

import (
	"context"
	"strconv"

	"github.com/parleydesk/parley/models"
)

// fileURL is f's signed link for the viewer, or "" when the request has
// no signer.
func fileURL(ctx context.Context, f *models.File, inline bool) string {
	if fn := Req(ctx).FileURL; fn != nil {
		return fn(f, inline)
	}
	return ""
}

// fileSize is f's size for people.
func fileSize(f *models.File) string { return models.FormatBytes(f.Size) }

// shownFiles are the files a thread shows: all of them but those of a
// deleted message.
func shownFiles(m *models.Message) []models.File {
	if m.DeletedAt != nil {
		return nil
	}
	return m.Files
}

// fileTypeIDs are the message ids naming each file category.
var fileTypeIDs = map[string]string{
	models.FileImage: "files.type_image", models.FileAudio: "files.type_audio", models.FileVideo: "files.type_video",
	models.FilePDF: "files.type_pdf", models.FileText: "files.type_text", models.FileDocument: "files.type_document",
	models.FileArchive: "files.type_archive", models.FileOther: "files.type_other",
}

// fileTypeName names a file category in the viewer's language.
func fileTypeName(ctx context.Context, category string) string { return T(ctx, fileTypeIDs[category]) }

// FilesUse is the storage use the admin page shows.
type FilesUse struct {
	models.StorageUse
	Store string // "local" or "s3"
}

// FileLimitsValues are the stored file rules as the form shows them.
func FileLimitsValues(s *models.DeskSettings) map[string]string {
	v := map[string]string{
		"file_max_mb":       strconv.FormatFloat(float64(s.FileMaxBytes)/(1<<20), 'f', -1, 64),
		"files_per_message": strconv.Itoa(s.FilesPerMessage),
	}
	if s.FileRetentionDays != nil {
		v["file_retention_days"] = strconv.Itoa(*s.FileRetentionDays)
	}
	for _, t := range s.FileTypes {
		v["type_"+t] = "on"
	}
	return v
}

// FileTypeName names a file category in the viewer's language.
func FileTypeName(ctx context.Context, category string) string { return fileTypeName(ctx, category) }
