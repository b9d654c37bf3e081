// SPDX-FileCopyrightText: 2026 Offen developers
// SPDX-License-Identifier: Apache-2.0

package server

import (
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/offen/offen/locales"
	"github.com/offen/offen/mailer"
	"github.com/offen/offen/persistence"
)

// addRoutes registers every route and its middleware: the whole HTTP surface
// of the instance on one screen.
func addRoutes(r *chi.Mux, logger *slog.Logger, opts Options, store persistence.Store, mail mailer.Mailer, loc *locales.Bundle, auditoriumFS, scriptFS fs.FS) {
	secure := opts.secure()
	op := newOperators(logger, opts, store, mail, loc)
	v := newVisitors(logger, opts, store, loc, scriptFS)
	r.Use(
		requestID,
		requestDeadline(opts.requestTimeout()),
		resolveClient(opts.TrustedProxies),
		logRequests(logger, opts.clock()),
		recoverPanics,
		securityHeaders(surfaceOther, secure),
		limitBody(defaultBodyLimit),
		// HEAD is answered wherever GET is (health checks, link checkers).
		middleware.GetHead,
	)
	// Set before any sub-router so that they inherit both.
	r.NotFound(handleNotFound)
	r.MethodNotAllowed(handleMethodNotAllowed(r))

	r.With(noStore).Get("/healthz", handleHealth(store))
	r.With(noStore).Get("/versionz", handleVersion(store, opts))
	r.Get("/robots.txt", handleRobots)

	// Visitor side, static (PROTOCOL §7.4, script/README.md "Serving"):
	// the tracking script for every site, the vault page that only the
	// account's allowed origins may frame, its styles and assets, and the
	// translation catalogs of the vault and the auditorium.
	r.With(securityHeaders(surfaceScript, secure)).Get("/script.js", handleScript(v))
	r.Get("/vault", redirectSlash)
	r.With(securityHeaders(surfaceVault, secure)).Get("/vault/", handleVault(v))
	r.Get("/vault/banner.css", handleBannerCSS(v))
	r.Get("/vault/assets/*", handleVaultAsset(v))
	r.Get("/locales/{lang}.json", handleLocales(v))

	// The auditorium (PROTOCOL §7.4, shell.go): the SPA shell for every app
	// page and its hashed assets, all with the shell's headers (a Web Worker
	// takes its CSP from its own script's response).
	shell := loadAuditoriumShell(auditoriumFS, opts.Locale)
	r.Group(func(r chi.Router) {
		r.Use(securityHeaders(surfaceShell, secure))
		r.Get("/", handleShell(shell, v))
		r.Get("/auditorium", redirectSlash)
		for _, p := range shellPaths {
			r.Get(p, handleShell(shell, v))
			r.Get(p+"*", handleShell(shell, v))
		}
		r.Get("/auditorium/assets/*", handleAuditoriumAsset(shell))
	})

	r.Route("/api", func(r chi.Router) {
		r.Use(securityHeaders(surfaceAPI, secure), protectCSRF(opts.instanceOrigins()))

		// Visitors (PROTOCOL §7.2), called same-origin by the vault and the
		// auditorium. Throttles of §7.5: exchange per client IP; events per
		// user id and client IP, counted in events (in the handler); reads
		// and purge per user id.
		r.Group(func(r chi.Router) {
			reads := limitVisitorReads(v)
			r.Get("/exchange", handlePublicKey(v))
			r.With(limitByIP(v.throttles.exchangeIP, v.now, v.ipOf)).Post("/exchange", handleExchange(v))
			r.With(limitBody(eventsBodyLimit)).Post("/events", handleCreateEvents(v))
			r.With(reads).Get("/events", handleVisitorEvents(v))
			r.With(reads).Get("/events/export", handleExport(v))
			r.With(reads).Post("/purge", handlePurge(v))
		})

		// Operators (PROTOCOL §7.3). Throttles of §7.5: per client IP on
		// salt, setup, forgot, reset and join (login throttles itself, by IP,
		// login and failure budget); per session on everything signed in.
		// session: requireLogin; grant/admin: requireGrant on {id};
		// creator: requireCreator; reauth: inside the handlers.
		r.Group(func(r chi.Router) {
			byIP := func(t *rateTable) func(http.Handler) http.Handler { return limitByIP(t, op.now, op.ipOf) }
			tokens := byIP(op.throttles.tokenIP)
			r.With(byIP(op.throttles.saltIP)).Post("/login/salt", handleLoginSalt(op))
			r.Post("/login", handleLogin(op))
			r.Post("/logout", handleLogout(op))
			r.Get("/setup", handleSetupStatus(op))
			r.With(tokens).Post("/setup", handleSetup(op))
			r.With(tokens).Post("/forgot-password", handleForgotPassword(op))
			r.With(tokens).Post("/reset-password/lookup", handleResetLookup(op))
			r.With(tokens).Post("/reset-password", handleResetPassword(op))
			r.With(tokens).Post("/join/lookup", handleJoinLookup(op))
			r.With(tokens).Post("/join", handleJoin(op))

			r.Group(func(r chi.Router) {
				r.Use(requireLogin(op))
				grant, admin := requireGrant(op, false), requireGrant(op, true)
				r.Get("/login", handleWhoami(op))
				r.Post("/change-password", handleChangePassword(op))
				r.Post("/change-email", handleChangeEmail(op))
				r.Post("/recovery-code", handleRecoveryCode(op))
				r.Post("/invitations", handleCreateInvitation(op))
				r.Get("/accounts", handleListAccounts(op))
				r.With(requireCreator(op)).Post("/accounts", handleCreateAccount(op))
				r.With(grant).Get("/accounts/{id}", handleGetAccount(op))
				r.With(admin).Post("/accounts/{id}/retire", handleRetireAccount(op))
				r.With(admin).Put("/accounts/{id}/allowed-origins", handleAllowedOrigins(op))
				r.With(admin).Put("/accounts/{id}/banner-styles", handleBannerStyles(op))
				r.With(grant).Get("/accounts/{id}/grants", handleListGrants(op))
				r.With(grant).Get("/accounts/{id}/events", handleAccountEvents(v))
				r.With(grant).Get("/accounts/{id}/secrets", handleAccountSecrets(v))
				// Sealed segments (keys/PROTOCOL.md §13), any role; uploads
				// get a body limit of their own.
				r.With(grant).Get("/accounts/{id}/segments", handleListSegments(op))
				r.With(grant).Get("/accounts/{id}/segments/{period}", handleGetSegment(op))
				r.With(grant, limitBody(segmentBodyLimit)).Put("/accounts/{id}/segments/{period}", handlePutSegment(op))
				r.With(grant).Get("/accounts/{id}/segments/{period}/events", handlePeriodEvents(v))
				r.With(admin).Put("/accounts/{id}/grants/{loginId}", handleGrantRole(op))
				r.Delete("/accounts/{id}/grants/{loginId}", handleRevokeGrant(op))
			})
		})
	})
}
