// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package relational

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// slowLogger reports statements slower than threshold as warnings, with
// placeholders instead of parameters, so no payload, identifier or secret
// reaches the log. Failed statements are not logged here: their errors are
// returned, and the caller that handles them logs them if needed.
type slowLogger struct {
	log       *slog.Logger
	threshold time.Duration
}

func (l slowLogger) LogMode(logger.LogLevel) logger.Interface { return l }
func (l slowLogger) Info(context.Context, string, ...any)     {}
func (l slowLogger) Warn(context.Context, string, ...any)     {}
func (l slowLogger) Error(context.Context, string, ...any)    {}

func (l slowLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	// A statement that failed slowly waited for a database that was away:
	// the server logs that once per outage, not once per statement.
	if elapsed < l.threshold || err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return
	}
	sql, rows := fc()
	l.log.WarnContext(ctx, "slow sql statement", "duration", elapsed.String(), "sql", sql, "rows", rows)
}

// ParamsFilter drops the parameters before the statement is rendered.
func (l slowLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}
