package app

import (
	"context"
	"sync"

	"github.com/parleydesk/parley/models"
)

// settingsCache keeps this instance's copy of the desk settings for what a
// response only displays, so a post need not read them again after its
// commit (issue 12 item 3) and opening a conversation does not read them at
// all (item 1). Every instance drops its copy when its broker reads a
// settings, desk-status or service-level event, and the instance that saved
// them drops it as the write commits (the writer's commit hook, before the
// answer). Only fields whose setters record such an event may be read from
// it: the file limits (models.SetFileLimits), the waiting thresholds
// (models.SetWaitingThresholds), the desk's service-level targets
// (models.SetSLATargets), the widget's settings (models.UpdateSettings) and
// the online switch (models.SetOnline). Others still change without an event
// (auto-close, typing preview, customer calls, the support key's lifetime,
// the widget secret): read them with models.GetSettings. Decisions keep
// reading the settings themselves: a widget write in its own transaction
// (models.settingsForWrite), an upload through fileLimits.
type settingsCache struct {
	mu sync.Mutex
	s  *models.DeskSettings
	// gen counts invalidations: a read that began before one is not kept.
	gen uint64
}

// get returns the cached settings, reading them when none are kept.
func (c *settingsCache) get(ctx context.Context, a *App) (*models.DeskSettings, error) {
	c.mu.Lock()
	if s := c.s; s != nil {
		c.mu.Unlock()
		return s, nil
	}
	gen := c.gen
	c.mu.Unlock()
	s, err := models.GetSettings(ctx, a.db)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		c.s = s
	}
	c.mu.Unlock()
	return s, nil
}

// invalidate drops the copy: the next get reads the settings again.
func (c *settingsCache) invalidate() {
	c.mu.Lock()
	c.s = nil
	c.gen++
	c.mu.Unlock()
}

// observe is the broker's hook: a settings, desk-status or service-level
// targets event, from any instance, drops the copy.
func (c *settingsCache) observe(evs []models.Event) {
	for _, e := range evs {
		if e.Kind == models.EventSettings || e.Kind == models.EventDeskStatus || e.Kind == models.EventSLATargets {
			c.invalidate()
			return
		}
	}
}

// composerLimits are the file limits a composer shows after a post, from
// the instance's copy of the settings.
func (a *App) composerLimits(ctx context.Context) (models.FileLimits, error) {
	s, err := a.settings.get(ctx, a)
	if err != nil {
		return models.FileLimits{}, err
	}
	return s.FileLimits(), nil
}
