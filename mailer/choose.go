// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package mailer

import (
	"log/slog"
)

// New picks the transport the way Offen documents it: SMTP when opts.Host is
// set, else the sendmail that FindSendmail finds, else the log mailer. The
// log mailer reveals links only when development is true (`offen demo`, local
// development); otherwise New logs a warning that mails cannot be delivered.
// opts.Sender is required for SMTP and sendmail. Errors are those of NewSMTP
// and NewSendmail.
func New(opts SMTPOptions, logger *slog.Logger, development bool) (Mailer, error) {
	if opts.Host != "" {
		m, err := NewSMTP(opts)
		if err != nil {
			return nil, err
		}
		logger.Info("mail: sending through SMTP", slog.String("host", opts.Host), slog.Int("port", m.opts.Port),
			slog.String("security", m.opts.Security), slog.String("auth", m.opts.Auth))
		return m, nil
	}
	if path, ok := FindSendmail(); ok {
		m, err := NewSendmail(path, opts.Sender)
		if err != nil {
			return nil, err
		}
		logger.Info("mail: sending through sendmail", slog.String("path", path))
		return m, nil
	}
	if !development {
		logger.Warn("mail: no SMTP host configured and no sendmail on PATH; password reset and invitation mails will not be delivered")
	}
	return NewLog(logger, development), nil
}
