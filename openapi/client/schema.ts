/**
 * Generated from openapi/openapi.json by `npm run openapi` (openapi-typescript). Do not edit.
 */

export interface paths {
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This OpenAPI document */
        get: operations["getOpenApiDocument"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: the process answers (never checks MySQL or Redis) */
        get: operations["healthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/livez": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: the process answers (never checks MySQL or Redis) */
        get: operations["livez"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Readiness: the database and the cache answer */
        get: operations["readyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/admin/token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Exchange an admin username and password for a login token */
        post: operations["loginAdmin"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/customer/token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Exchange an customer username and password for a login token */
        post: operations["loginCustomer"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/auth/session": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The console session: its account, when it ends, its idle timeout
         * @description Cookie-authenticated: the request must carry `X-Requested-By: token-console`, no `Origin` other than the authority’s own, and `Sec-Fetch-Site` absent or `same-origin` (otherwise 403 `csrf_rejected`). 401 `session_expired` when the session ended (idle, past its lifetime, signed out or revoked; the cookies are cleared), `unauthorized` when there is no session cookie. Counts as activity.
         */
        get: operations["getSession"];
        put?: never;
        /**
         * Console sign-in: username and password → an HttpOnly session cookie
         * @description Issues a login token of the account exactly as `POST /v1/auth/{realm}/token` does (same throttle, same errors) but lasting `CONSOLE_SESSION_TTL_SECONDS`, and sets it as the `ta_session` cookie (`__Host-ta_session` over TLS; `HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure` over TLS) with a sealed activity cookie (`ta_activity`) for the idle timeout. The token value is never in the body. Refused with 403 `csrf_rejected` when `Origin` or `Sec-Fetch-Site` say the request is cross-site.
         */
        post: operations["signIn"];
        /**
         * Console sign-out: revokes the session’s login token and clears the cookies
         * @description Cookie-authenticated: the request must carry `X-Requested-By: token-console`, no `Origin` other than the authority’s own, and `Sec-Fetch-Site` absent or `same-origin` (otherwise 403 `csrf_rejected`). Answers 204 whether or not a session was live (the cookie is optional).
         */
        delete: operations["signOut"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/introspect": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** RFC 7662 token introspection (service callers with tokens:introspect) */
        post: operations["introspectToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** RFC 7009 revocation: a service with tokens:revoke, or the token itself as the Bearer credential */
        post: operations["revokeTokenByValue"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * RFC 8693 token exchange: a PAT or service token → a short-lived, narrower, audience-bound token
         * @description The subject token proves possession; client authentication (HTTP Basic, or `client_id` + `client_secret` form fields: the service account’s username and one of its tokens) is optional and, when given, must name the subject token’s account. `audience` (or `resource`, repeatable, at most 5 in all) is required. `actor_token` is not supported. Errors are RFC 6749 §5.2 bodies with `Cache-Control: no-store`.
         */
        post: operations["exchangeToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/leaked-tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Report leaked token values (public): live ones are revoked; the answer is the same whatever they were */
        post: operations["reportLeakedTokens"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/.well-known/oauth-authorization-server": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** RFC 8414 authorization server metadata */
        get: operations["getAuthorizationServerMetadata"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The calling account and the effective scopes of this credential */
        get: operations["getMe"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me/password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Change your password; ends your other login sessions (and, on request, your PATs)
         * @description Confirmed with `current_password` (throttled like every password check). Every login token of the account except the one making this call is revoked at once; with `revoke_tokens: true` its PATs and service tokens too.
         */
        post: operations["changeMyPassword"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/me/revoke-before": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Revoke every token of your account issued before a time (this one too, if it is older)
         * @description Sets the revoke-before watermark on your account: tokens created before `before` are inactive from now on, and the live ones are revoked. The watermark only moves forward.
         */
        post: operations["revokeMyTokensBefore"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/scopes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The scope catalogue, the named presets and the token lifetime policy */
        get: operations["listScopes"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List your tokens, newest first */
        get: operations["listTokens"];
        put?: never;
        /** Create a personal access token (its value is shown once) */
        post: operations["createToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokens/revoke": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Revoke several of your tokens at once */
        post: operations["revokeTokens"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokens/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read one of your tokens */
        get: operations["getToken"];
        put?: never;
        post?: never;
        /** Revoke one of your tokens */
        delete: operations["revokeToken"];
        options?: never;
        head?: never;
        /** Edit a token: name, description, narrower scopes, earlier expiry */
        patch: operations["editToken"];
        trace?: never;
    };
    "/v1/tokens/{id}/regenerate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * New value, same parameters; the old value stops at once, or after an overlap
         * @description Without `old_valid_for_seconds` the old value stops working at once. With it, the old value keeps working until that many seconds have passed or the new value is first used (introspected or presented to this API), whichever comes first. Once stopped, presenting the old value again revokes it together with every successor (reason `reuse_detected`). See docs/tokens.md, "Rotation".
         */
        post: operations["regenerateToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/tokens/{id}/copy": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A new token with this one’s parameters */
        post: operations["copyToken"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List accounts by username */
        get: operations["listAccounts"];
        put?: never;
        /** Create an account (admin, customer or service) */
        post: operations["createAccount"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read an account */
        get: operations["getAccount"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Edit permissions, reset the password (ends its login tokens), disable (ends all its tokens for good) or enable
         * @description Only on an account whose permissions your credential holds all of (else 403 account_more_privileged). A new `password` ends every login token of the account; with `revoke_tokens: true` every other token too. `disabled: true` revokes every token, and nothing issued before it works again after an enable. The last enabled holder of accounts:write cannot be disabled or lose it (409 last_admin).
         */
        patch: operations["editAccount"];
        trace?: never;
    };
    "/v1/accounts/{id}/tokens": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List an account’s tokens */
        get: operations["listAccountTokens"];
        put?: never;
        /** Create a token for an account (how service accounts get theirs) */
        post: operations["createAccountToken"];
        /** Revoke every live token of an account */
        delete: operations["revokeAccountTokens"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{id}/tokens/{tokenId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke one token of an account */
        delete: operations["revokeAccountToken"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/accounts/{id}/revoke-before": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Revoke every token of an account issued before a time (a watermark on the account)
         * @description Tokens created before `before` are inactive from now on, including any issued concurrently; the live ones are marked revoked and published through the revocation log. The watermark only moves forward. Only on an account you may act on (else 403 account_more_privileged).
         */
        post: operations["revokeAccountTokensBefore"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/admin/tokens/revoke-matching": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Revoke every live token matching a selector (or count them with dry_run)
         * @description Matches live tokens only. `dry_run: true` counts and lists the first ids and changes nothing (no password needed). A real run revokes in transactions of up to 500 tokens, each appended to the revocation log, up to 10000 tokens scanned per call (then `next_cursor`: send it back to go on); one audit row for the call, with the counts. Tokens of accounts holding permissions your credential lacks are left out in the query: not revoked, not counted, not listed (the answer is as if they did not exist); naming such an account in `account_id` is a 403.
         */
        post: operations["revokeMatchingTokens"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/revocations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The revocation log as Server-Sent Events (resume with Last-Event-ID)
         * @description Each event names tokens (and, when every token of an account is concerned, the account) whose cached answers must be dropped. `id` is the event's sequence number: reconnect with `Last-Event-ID` to resume exactly. `event: reset` means the consumer is further behind than the log keeps (REVOCATION_LOG_RETENTION_HOURS): drop the whole cache. A `: heartbeat` comment every REVOCATION_STREAM_HEARTBEAT_SECONDS (15 s by default), when the consumer's credential is checked again. See docs/revocation-stream.md.
         */
        get: operations["streamRevocations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List webhook endpoints, oldest first */
        get: operations["listWebhooks"];
        put?: never;
        /** Register a webhook endpoint (its signing secret is shown once) */
        post: operations["createWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Read a webhook endpoint (never its secret) */
        get: operations["getWebhook"];
        put?: never;
        post?: never;
        /** Delete a webhook endpoint and its delivery log (pending deliveries are dropped) */
        delete: operations["deleteWebhook"];
        options?: never;
        head?: never;
        /** Edit a webhook endpoint: url, description, event types, enabled (paused endpoints keep their queue) */
        patch: operations["editWebhook"];
        trace?: never;
    };
    "/v1/webhooks/{id}/rotate-secret": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Replace the signing secret (the new one is shown once; the old one stops signing at once) */
        post: operations["rotateWebhookSecret"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}/test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Queue a webhook.test event to this endpoint (watch its delivery log) */
        post: operations["sendWebhookTest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The delivery log of an endpoint, newest first */
        get: operations["listWebhookDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** Error */
        Error: {
            statusCode: number;
            /** @enum {string} */
            code: "validation_failed" | "invalid_request" | "invalid_scope" | "invalid_target" | "unsupported_grant_type" | "password_required" | "unknown_scope" | "unknown_preset" | "invalid_webhook_url" | "invalid_expiry" | "overlap_too_long" | "unauthorized" | "invalid_token" | "invalid_credentials" | "session_expired" | "invalid_client" | "insufficient_scope" | "csrf_rejected" | "scope_not_permitted" | "password_confirmation_failed" | "account_more_privileged" | "forbidden" | "not_found" | "token_inactive" | "token_superseded" | "conflict" | "username_taken" | "last_admin" | "payload_too_large" | "unsupported_media_type" | "too_many_requests" | "internal_error" | "service_unavailable";
            /** @description HTTP reason phrase */
            error: string;
            message: string;
            requestId: string;
        };
        RevokeBeforeResult: {
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            tokens_revoked_before: string;
            /** @description live tokens this call revoked */
            revoked: number;
        };
        Token: {
            /**
             * @description public token id
             * @example mZ3kQ8vT2xW9pL4sN7bR1A
             */
            id: string;
            /**
             * @description pat = personal access token, lgn = login token, svc = service token, xch = exchanged token (RFC 8693, `POST /token`)
             * @enum {string}
             */
            kind: "pat" | "lgn" | "svc" | "xch";
            name: string;
            description: string;
            /** @description null: all of the owner’s permissions (login tokens) */
            scopes: string[] | null;
            preset: string | null;
            /** @enum {string} */
            state: "active" | "expired" | "revoked";
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            created_at: string;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            expires_at: string | null;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            revoked_at: string | null;
            /** @description why it was revoked: `revoked` (by a person), `regenerated` / `rotated` (a rotation stopped it), `reuse_detected` (its rotation family was revoked because a stopped value was presented again), … */
            revoked_reason: string | null;
            /** @description the token this one was regenerated or copied from */
            parent_id: string | (never | null);
            /** @description the token that replaced this one when it was regenerated */
            replaced_by: string | (never | null);
            /**
             * @description superseded: regenerated with an overlap that is still open (the value still works until rotation_ends_at or the first use of replaced_by); stopped: a rotation ended it (presenting it again revokes the family); null: not rotated away
             * @enum {string|null}
             */
            rotation: "superseded" | "stopped" | null;
            /** @description when the overlap ends (superseded) or when the value stopped (stopped) */
            rotation_ends_at: string | (never | null);
            /** @description the last use seen, written behind (up to LAST_USED_FLUSH_SECONDS late); null = no use recorded */
            last_used: {
                /**
                 * Format: date-time
                 * @description ISO 8601, UTC
                 */
                at: string;
                /** @description the client address: the request’s, or the one the introspecting service forwarded */
                address: string | null;
                user_agent: string | null;
                /**
                 * Format: uuid
                 * @description the service account that introspected it; null = used on this API
                 * @example 3f1c9a52-7b4e-4d2a-9c61-0e8b5d7f2a14
                 */
                caller: string | null;
            } | null;
        };
        IssuedToken: {
            token: components["schemas"]["Token"];
            /** @description the token value; shown this once and never again */
            access_token: string;
        };
        Account: {
            /**
             * Format: uuid
             * @example 3f1c9a52-7b4e-4d2a-9c61-0e8b5d7f2a14
             */
            id: string;
            username: string;
            /** @enum {string} */
            kind: "admin" | "customer" | "service";
            permissions: string[];
            disabled: boolean;
            /** @description its tokens created before this time are inactive (revoke-before); null = none */
            tokens_revoked_before: string | (never | null);
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            created_at: string;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            updated_at: string;
        };
        TokenPage: {
            items: components["schemas"]["Token"][];
            next_cursor: string | null;
        };
        RevokeResult: {
            revoked: string[];
            already_inactive: string[];
            not_found: string[];
        };
        Health: {
            /** @enum {string} */
            status: "ok" | "fail";
            checks: {
                [key: string]: string;
            };
        };
        LoginToken: {
            access_token: string;
            /** @enum {string} */
            token_type: "Bearer";
            expires_in: number;
            /** @description space-separated permissions the token carries now */
            scope: string;
        };
        ConsoleSession: {
            account: {
                /**
                 * Format: uuid
                 * @example 3f1c9a52-7b4e-4d2a-9c61-0e8b5d7f2a14
                 */
                id: string;
                username: string;
                /** @enum {string} */
                kind: "admin" | "customer" | "service";
                permissions: string[];
            };
            /**
             * Format: date-time
             * @description when the session ends whatever the activity (its lifetime)
             */
            expires_at: string;
            /** @description the session ends after this long without an authenticated request */
            idle_timeout_seconds: number;
        };
        /**
         * @example {
         *       "token": "tka_pat_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE",
         *       "token_type_hint": "access_token"
         *     }
         */
        TokenRequest: {
            /** @example tka_pat_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE */
            token: string;
            /** @example access_token */
            token_type_hint?: string;
            /** @example orders-service */
            client_id?: string;
            /** @example tka_svc_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_ */
            client_secret?: string;
        };
        /**
         * @example {
         *       "token": "tka_pat_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE",
         *       "token_type_hint": "access_token"
         *     }
         */
        IntrospectionRequest: {
            /** @example tka_pat_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE */
            token: string;
            /** @example access_token */
            token_type_hint?: string;
            /**
             * @description extension: the IPv4 or IPv6 address of the client that presented the token to the caller (shown as its last use)
             * @example 203.0.113.7
             */
            client_address?: string;
            /**
             * @description extension: that client’s User-Agent (stored cut to 256 characters)
             * @example orders-cli/2.3
             */
            client_user_agent?: string;
            /** @example orders-service */
            client_id?: string;
            /** @example tka_svc_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_ */
            client_secret?: string;
        };
        Introspection: {
            active: boolean;
            scope?: string;
            client_id?: string;
            username?: string;
            token_type?: string;
            exp?: number;
            iat?: number;
            sub?: string;
            iss?: string;
            jti?: string;
            /**
             * @description the owner’s account kind
             * @enum {string}
             */
            kind?: "admin" | "customer" | "service";
            /** @enum {string} */
            token_kind?: "pat" | "lgn" | "svc" | "xch";
            /** @description exchanged tokens (RFC 8693): the audiences the token is bound to (a consumer not among them refuses it) */
            aud?: string[];
            /** @description exchanged tokens: who exchanged it (RFC 8693 §4.1) */
            act?: {
                /** @description the account that exchanged the subject token */
                sub: string;
                /** @description the subject token’s id */
                token_id: string;
            };
            /** @description token scopes ∩ the owner’s current permissions */
            permissions?: string[];
            /**
             * @description why the token is inactive; only for callers holding tokens:introspect:reason. reuse_detected: revoked with its rotation family because a value a rotation had stopped was presented again
             * @enum {string}
             */
            reason?: "expired" | "revoked" | "unknown" | "reuse_detected";
            /**
             * @description the token was regenerated with an overlap: this value works until rotation_ends_at, or until its successor is first used
             * @enum {string}
             */
            rotation?: "superseded";
            /** @description when the overlap ends at the latest (unix seconds) */
            rotation_ends_at?: number;
        };
        /**
         * OAuthError
         * @description RFC 6749 §5.2 error response (RFC 8693 §2.2.2)
         */
        OAuthError: {
            /** @enum {string} */
            error: "invalid_request" | "invalid_client" | "invalid_scope" | "invalid_target" | "unsupported_grant_type" | "temporarily_unavailable" | "server_error";
            error_description: string;
        };
        /**
         * @example {
         *       "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
         *       "subject_token": "tka_svc_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_",
         *       "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
         *       "audience": "orders-api",
         *       "scope": "orders:read"
         *     }
         */
        TokenExchangeRequest: {
            /** @example urn:ietf:params:oauth:grant-type:token-exchange */
            grant_type?: string;
            /** @example tka_svc_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_ */
            subject_token?: string;
            /** @example urn:ietf:params:oauth:token-type:access_token */
            subject_token_type?: string;
            /** @example urn:ietf:params:oauth:token-type:access_token */
            requested_token_type?: string;
            /** @example orders:read */
            scope?: string;
            /** @example orders-api */
            audience?: string | string[];
            /** @example https://orders.example.com/ */
            resource?: string | string[];
        } & {
            [key: string]: unknown;
        };
        TokenExchangeResponse: {
            /** @description the exchanged token (kind xch); shown once */
            access_token: string;
            /** @enum {string} */
            issued_token_type: "urn:ietf:params:oauth:token-type:access_token";
            /** @enum {string} */
            token_type: "Bearer";
            /** @description seconds */
            expires_in: number;
            /** @description space-separated, ⊆ the subject token’s effective scopes */
            scope: string;
        };
        /**
         * @example {
         *       "tokens": [
         *         "tka_pat_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE"
         *       ]
         *     }
         */
        LeakReport: {
            /** @description values found in the wild (a paste, a repository, a log); at most 100 */
            tokens: string[];
        };
        LeakReportReceipt: {
            /** @description how many values the report held (whatever they were) */
            received: number;
        };
        AuthorizationServerMetadata: {
            /** @description `ISSUER_URL`, or the request’s scheme and host when unset */
            issuer: string;
            /** @description RFC 8693 token exchange */
            token_endpoint: string;
            token_endpoint_auth_methods_supported: string[];
            grant_types_supported: string[];
            /** @description none: there is no authorization endpoint */
            response_types_supported: string[];
            scopes_supported: string[];
            introspection_endpoint: string;
            introspection_endpoint_auth_methods_supported: string[];
            revocation_endpoint: string;
            revocation_endpoint_auth_methods_supported: string[];
            service_documentation: string;
            introspection_token_type_hints_supported: string[];
            revocation_token_type_hints_supported: string[];
            token_exchange_subject_token_types_supported: string[];
            token_exchange_requested_token_types_supported: string[];
            /** @description /introspect and /revoke also take `Authorization: Bearer <service token>` */
            caller_bearer_token_supported: boolean;
            /** @description Server-Sent Events of the revocation log (`tokens:revocations`; resume with `Last-Event-ID`) */
            revocation_stream_endpoint: string;
            /** @description public: report leaked values (`POST`, JSON) */
            leaked_token_report_endpoint: string;
            /** @description the regex secret scanners match (docs/scanners/gitleaks.toml) */
            token_pattern: string;
        };
        Me: {
            account: components["schemas"]["Account"];
            token: {
                /**
                 * @description public token id
                 * @example mZ3kQ8vT2xW9pL4sN7bR1A
                 */
                id: string;
                /**
                 * @description pat = personal access token, lgn = login token, svc = service token, xch = exchanged token (RFC 8693, `POST /token`)
                 * @enum {string}
                 */
                kind: "pat" | "lgn" | "svc" | "xch";
                /**
                 * Format: date-time
                 * @description ISO 8601, UTC
                 */
                expires_at: string | null;
            };
            /** @description effective scopes of this credential */
            scopes: string[];
        };
        ScopeCatalogue: {
            scopes: {
                name: string;
                description: string;
                builtin: boolean;
            }[];
            presets: {
                name: string;
                description: string;
                scopes: string[];
            }[];
            /** @description the lifetime policy a new token must keep to (a form offers only what it allows) */
            lifetime: {
                /** @description lifetime of a PAT or service token created without `expires_at` (TOKEN_DEFAULT_LIFETIME_DAYS) */
                default_days: number;
                /** @description longest lifetime a PAT or service token may be given, in days from its creation (TOKEN_MAX_LIFETIME_DAYS); null: no maximum, and `expires_at: null` (never) is allowed */
                max_days: number | null;
            };
        };
        AccountPage: {
            items: components["schemas"]["Account"][];
            next_cursor: string | null;
        };
        RevokeMatchingResult: {
            dry_run: boolean;
            /** @description live tokens matched that you may act on (in a real run: the ones revoked) */
            matched: number;
            /** @description tokens this call revoked (0 in a dry run) */
            revoked: number;
            /** @description the first 100 ids matched */
            ids: string[];
            /** @description null: every match was seen. Otherwise this call stopped after scanning 10000 tokens: send the same request with this cursor to go on */
            next_cursor: string | (never | null);
        };
        WebhookEndpoint: {
            /** Format: uuid */
            id: string;
            url: string;
            description: string;
            event_types: string[];
            enabled: boolean;
            created_by: string | null;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            created_at: string;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            updated_at: string;
        };
        WebhookEndpointWithSecret: {
            endpoint: components["schemas"]["WebhookEndpoint"];
            /** @description the signing secret (`whsec_…`), shown this once; HMAC key of `Webhook-Signature` */
            secret: string;
        };
        WebhookEndpointPage: {
            items: components["schemas"]["WebhookEndpoint"][];
            next_cursor: string | null;
        };
        WebhookDelivery: {
            id: string;
            /** @description the `Webhook-Id` the receiver saw */
            event_id: string;
            event_type: string;
            /** @enum {string} */
            status: "pending" | "delivered" | "failed";
            attempts: number;
            /** @description when pending: the next attempt */
            next_attempt_at: string | (never | null);
            /** @description status of the last answer; null when none came (refused, timed out) */
            last_http_status: number | null;
            last_error: string | null;
            last_latency_ms: number | null;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            created_at: string;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            updated_at: string;
            /**
             * Format: date-time
             * @description ISO 8601, UTC
             */
            delivered_at: string | null;
        };
        WebhookDeliveryPage: {
            items: components["schemas"]["WebhookDelivery"][];
            next_cursor: string | null;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getOpenApiDocument: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OpenAPI 3.0 document */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        [key: string]: unknown;
                    };
                };
            };
        };
    };
    healthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    livez: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    readyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    loginAdmin: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "username": "jane.doe",
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    username: string;
                    password: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LoginToken"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    loginCustomer: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "username": "jane.doe",
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    username: string;
                    password: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LoginToken"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getSession: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConsoleSession"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    signIn: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "realm": "admin",
                 *       "username": "jane.doe",
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    /** @enum {string} */
                    realm: "admin" | "customer";
                    username: string;
                    password: string;
                };
            };
        };
        responses: {
            /** @description Signed in; `Set-Cookie` carries the session and its activity seal */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ConsoleSession"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    signOut: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Signed out; the cookies are cleared */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    introspectToken: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "token": "tka_pat_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE",
                 *       "token_type_hint": "access_token"
                 *     }
                 */
                "application/x-www-form-urlencoded": components["schemas"]["IntrospectionRequest"];
                /**
                 * @example {
                 *       "token": "tka_pat_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE",
                 *       "token_type_hint": "access_token"
                 *     }
                 */
                "application/json": components["schemas"]["IntrospectionRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Introspection"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revokeTokenByValue: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "token": "tka_pat_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE",
                 *       "token_type_hint": "access_token"
                 *     }
                 */
                "application/x-www-form-urlencoded": components["schemas"]["TokenRequest"];
                /**
                 * @example {
                 *       "token": "tka_pat_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE",
                 *       "token_type_hint": "access_token"
                 *     }
                 */
                "application/json": components["schemas"]["TokenRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    exchangeToken: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                 *       "subject_token": "tka_svc_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_EXAMPLE_not_a_real_service_token_",
                 *       "subject_token_type": "urn:ietf:params:oauth:token-type:access_token",
                 *       "audience": "orders-api",
                 *       "scope": "orders:read"
                 *     }
                 */
                "application/x-www-form-urlencoded": components["schemas"]["TokenExchangeRequest"];
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenExchangeResponse"];
                };
            };
            /** @description 400: `invalid_request`… */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OAuthError"];
                };
            };
            /** @description 401: `invalid_client`… */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OAuthError"];
                };
            };
            /** @description 429: `invalid_request`… */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OAuthError"];
                };
            };
            /** @description 500: `server_error`… */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OAuthError"];
                };
            };
            /** @description 503: `temporarily_unavailable`… */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["OAuthError"];
                };
            };
        };
    };
    reportLeakedTokens: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "tokens": [
                 *         "tka_pat_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE_not_a_real_token_EXAMPLE"
                 *       ]
                 *     }
                 */
                "application/json": components["schemas"]["LeakReport"];
            };
        };
        responses: {
            /** @description Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["LeakReportReceipt"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getAuthorizationServerMetadata: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AuthorizationServerMetadata"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Me"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    changeMyPassword: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description your current password */
                    current_password: string;
                    /** @description at least 12 characters, at most 72 bytes in UTF-8 */
                    new_password: string;
                    /**
                     * @description also revoke every PAT and service token of the account
                     * @default false
                     */
                    revoke_tokens?: boolean;
                };
            };
        };
        responses: {
            /** @description changed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Conflict with the current state: token_inactive, token_superseded, conflict, username_taken, last_admin */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revokeMyTokensBefore: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "before": "2026-01-01T00:00:00Z",
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    /**
                     * Format: date-time
                     * @description tokens created before this time stop working; now or in the past; left out: now, by the authority's clock (so a caller's clock running ahead cannot make it a time to come); the watermark never moves back
                     */
                    before?: string;
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RevokeBeforeResult"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Conflict with the current state: token_inactive, token_superseded, conflict, username_taken, last_admin */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listScopes: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ScopeCatalogue"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listTokens: {
        parameters: {
            query: {
                /** @example active */
                state?: "active" | "expired" | "revoked";
                /**
                 * @description only live tokens expiring within this: seconds (`86400`) or an ISO 8601 duration in weeks, days, hours, minutes, seconds (`P30D`, `PT12H`)
                 * @example P7D
                 */
                expiring_within?: string;
                /** @example 20 */
                limit: number;
                /**
                 * @description next_cursor of the previous page; leave it out for the first page
                 * @example WzE3NjcyMjU2MDAwMDAsIm1aM2tROHZUMnhXOXBMNHNON2JSMUEiXQ
                 */
                cursor?: string;
                /**
                 * @description only tokens whose last recorded use is at or after this time
                 * @example 2026-01-01T00:00:00Z
                 */
                used_since?: string;
                /**
                 * @description only tokens with no recorded use at or after this time (never-used ones included)
                 * @example 2026-01-01T00:00:00Z
                 */
                unused_since?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenPage"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createToken: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description plain text with at least one visible character: no control, line-separator or bidi-control characters */
                    name: string;
                    /** @description plain text on one line: no control, line-separator or bidi-control characters */
                    description?: string;
                    scopes?: string[];
                    preset?: string;
                    /** @description absent: the default lifetime (TOKEN_DEFAULT_LIFETIME_DAYS); at most TOKEN_MAX_LIFETIME_DAYS ahead; null (never) only when there is no maximum */
                    expires_at?: string | (never | null);
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description Created (a token value, when present, is shown this once) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IssuedToken"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revokeTokens: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "ids": [
                 *         "mZ3kQ8vT2xW9pL4sN7bR1A",
                 *         "Hk5cV0qYe7JtU2nF6wXa9g"
                 *       ],
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    ids: string[];
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RevokeResult"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description public token id
                 * @example mZ3kQ8vT2xW9pL4sN7bR1A
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Token"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revokeToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description public token id
                 * @example mZ3kQ8vT2xW9pL4sN7bR1A
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Token"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    editToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description public token id
                 * @example mZ3kQ8vT2xW9pL4sN7bR1A
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    /** @description plain text with at least one visible character: no control, line-separator or bidi-control characters */
                    name?: string;
                    /** @description plain text on one line: no control, line-separator or bidi-control characters */
                    description?: string;
                    scopes?: string[];
                    /**
                     * Format: date-time
                     * @description ISO 8601, UTC
                     */
                    expires_at?: string;
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Token"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Conflict with the current state: token_inactive, token_superseded, conflict, username_taken, last_admin */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    regenerateToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description public token id
                 * @example mZ3kQ8vT2xW9pL4sN7bR1A
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    /**
                     * Format: date-time
                     * @description ISO 8601, UTC
                     */
                    expires_at?: string | null;
                    /** @description overlap: how long the old value keeps working (it stops earlier, at the first use of the new one); 0 or absent = none; at most ROTATION_MAX_OVERLAP_SECONDS (400 overlap_too_long past it) */
                    old_valid_for_seconds?: number;
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description Created (a token value, when present, is shown this once) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IssuedToken"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Conflict with the current state: token_inactive, token_superseded, conflict, username_taken, last_admin */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    copyToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description public token id
                 * @example mZ3kQ8vT2xW9pL4sN7bR1A
                 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "name": "deploy pipeline (orders, staging)",
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    /** @description plain text with at least one visible character: no control, line-separator or bidi-control characters */
                    name?: string;
                    /** @description plain text on one line: no control, line-separator or bidi-control characters */
                    description?: string;
                    /**
                     * Format: date-time
                     * @description ISO 8601, UTC
                     */
                    expires_at?: string | null;
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description Created (a token value, when present, is shown this once) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IssuedToken"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listAccounts: {
        parameters: {
            query: {
                /** @example customer */
                kind?: "admin" | "customer" | "service";
                /** @example 20 */
                limit: number;
                /**
                 * @description next_cursor of the previous page; leave it out for the first page
                 * @example jane.doe
                 */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["AccountPage"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createAccount: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    username: string;
                    /** @description at least 12 characters, at most 72 bytes in UTF-8 */
                    password: string;
                    /** @enum {string} */
                    kind: "admin" | "customer" | "service";
                    permissions?: string[];
                    /** @description your current password; required when password confirmation is on (default) */
                    current_password?: string;
                };
            };
        };
        responses: {
            /** @description Created (a token value, when present, is shown this once) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Account"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Conflict with the current state: token_inactive, token_superseded, conflict, username_taken, last_admin */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getAccount: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 3f1c9a52-7b4e-4d2a-9c61-0e8b5d7f2a14 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Account"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    editAccount: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 3f1c9a52-7b4e-4d2a-9c61-0e8b5d7f2a14 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                "application/json": {
                    permissions?: string[];
                    /** @description at least 12 characters, at most 72 bytes in UTF-8 */
                    password?: string;
                    disabled?: boolean;
                    /** @description with password: also revoke its PATs and service tokens */
                    revoke_tokens?: boolean;
                    /** @description your current password; required when password confirmation is on (default) */
                    current_password?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Account"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Conflict with the current state: token_inactive, token_superseded, conflict, username_taken, last_admin */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listAccountTokens: {
        parameters: {
            query: {
                /** @example active */
                state?: "active" | "expired" | "revoked";
                /**
                 * @description only live tokens expiring within this: seconds (`86400`) or an ISO 8601 duration in weeks, days, hours, minutes, seconds (`P30D`, `PT12H`)
                 * @example P7D
                 */
                expiring_within?: string;
                /** @example 20 */
                limit: number;
                /**
                 * @description next_cursor of the previous page; leave it out for the first page
                 * @example WzE3NjcyMjU2MDAwMDAsIm1aM2tROHZUMnhXOXBMNHNON2JSMUEiXQ
                 */
                cursor?: string;
                /**
                 * @description only tokens whose last recorded use is at or after this time
                 * @example 2026-01-01T00:00:00Z
                 */
                used_since?: string;
                /**
                 * @description only tokens with no recorded use at or after this time (never-used ones included)
                 * @example 2026-01-01T00:00:00Z
                 */
                unused_since?: string;
            };
            header?: never;
            path: {
                /** @example 3f1c9a52-7b4e-4d2a-9c61-0e8b5d7f2a14 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TokenPage"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createAccountToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 3f1c9a52-7b4e-4d2a-9c61-0e8b5d7f2a14 */
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "orders-service introspection",
                 *       "description": "orders-service verifies its callers’ tokens with this one",
                 *       "preset": "introspection",
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    /** @description plain text with at least one visible character: no control, line-separator or bidi-control characters */
                    name: string;
                    /** @description plain text on one line: no control, line-separator or bidi-control characters */
                    description?: string;
                    scopes?: string[];
                    preset?: string;
                    /** @description absent: the default lifetime (TOKEN_DEFAULT_LIFETIME_DAYS); at most TOKEN_MAX_LIFETIME_DAYS ahead; null (never) only when there is no maximum */
                    expires_at?: string | (never | null);
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description Created (a token value, when present, is shown this once) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["IssuedToken"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revokeAccountTokens: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 3f1c9a52-7b4e-4d2a-9c61-0e8b5d7f2a14 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RevokeResult"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revokeAccountToken: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 3f1c9a52-7b4e-4d2a-9c61-0e8b5d7f2a14 */
                id: string;
                /**
                 * @description public token id
                 * @example mZ3kQ8vT2xW9pL4sN7bR1A
                 */
                tokenId: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Token"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revokeAccountTokensBefore: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 3f1c9a52-7b4e-4d2a-9c61-0e8b5d7f2a14 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "before": "2026-01-01T00:00:00Z",
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    /**
                     * Format: date-time
                     * @description tokens created before this time stop working; now or in the past; left out: now, by the authority's clock (so a caller's clock running ahead cannot make it a time to come); the watermark never moves back
                     */
                    before?: string;
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RevokeBeforeResult"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Conflict with the current state: token_inactive, token_superseded, conflict, username_taken, last_admin */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    revokeMatchingTokens: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description every criterion given must hold; at least one of them (include_never_used is not one) */
                    selector: {
                        /**
                         * Format: uuid
                         * @example 3f1c9a52-7b4e-4d2a-9c61-0e8b5d7f2a14
                         */
                        account_id?: string;
                        /**
                         * @description pat = personal access token, lgn = login token, svc = service token, xch = exchanged token (RFC 8693, `POST /token`)
                         * @enum {string}
                         */
                        kind?: "pat" | "lgn" | "svc" | "xch";
                        scope?: string;
                        /**
                         * Format: date-time
                         * @description ISO 8601, UTC
                         */
                        created_before?: string;
                        /**
                         * Format: date-time
                         * @description ISO 8601, UTC
                         */
                        created_after?: string;
                        /**
                         * Format: date-time
                         * @description last recorded use before this time (never-used tokens only with include_never_used)
                         */
                        last_used_before?: string;
                        /** @description with last_used_before: tokens with no recorded use match too (default false) */
                        include_never_used?: boolean;
                        /** @description exact, case-sensitive */
                        name_prefix?: string;
                    };
                    dry_run: boolean;
                    /**
                     * @description public token id
                     * @example mZ3kQ8vT2xW9pL4sN7bR1A
                     */
                    cursor?: string;
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RevokeMatchingResult"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Conflict with the current state: token_inactive, token_superseded, conflict, username_taken, last_admin */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    streamRevocations: {
        parameters: {
            query?: {
                /**
                 * @description the same as Last-Event-ID, for clients that cannot set headers
                 * @example 41
                 */
                last_event_id?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the stream: `id: <seq>`, `event: revocation`, `data: {seq, at, token_ids, account_id, reason}`; `event: reset`; `: heartbeat` */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/event-stream": string;
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listWebhooks: {
        parameters: {
            query: {
                /** @example 20 */
                limit: number;
                /**
                 * @description next_cursor of the previous page; leave it out for the first page
                 * @example WzE3NjcyMjU2MDAwMDAsIjdkOWUyYzQxLTVhM2ItNGY4ZS1iMWM2LTJlNGY2YThiMGMxMyJd
                 */
                cursor?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpointPage"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    createWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "url": "https://hooks.example.com/token-events",
                 *       "description": "security team",
                 *       "event_types": [
                 *         "token.revoked",
                 *         "token.expiring",
                 *         "token.reuse_detected"
                 *       ],
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    /**
                     * @description http(s) URL the events are POSTed to; no user:password part; redirects are never followed
                     * @example https://hooks.example.com/token-events
                     */
                    url: string;
                    /** @description plain text on one line: no control, line-separator or bidi-control characters */
                    description?: string;
                    event_types: ("token.created" | "token.regenerated" | "token.revoked" | "token.expiring" | "token.expired" | "token.reuse_detected" | "token.leaked" | "account.disabled" | "account.password_changed")[];
                    /** @default true */
                    enabled?: boolean;
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description Created (a token value, when present, is shown this once) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpointWithSecret"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    getWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 7d9e2c41-5a3b-4f8e-b1c6-2e4f6a8b0c13 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpoint"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    deleteWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 7d9e2c41-5a3b-4f8e-b1c6-2e4f6a8b0c13 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description Response */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    editWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 7d9e2c41-5a3b-4f8e-b1c6-2e4f6a8b0c13 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "enabled": false,
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    /**
                     * @description http(s) URL the events are POSTed to; no user:password part; redirects are never followed
                     * @example https://hooks.example.com/token-events
                     */
                    url?: string;
                    /** @description plain text on one line: no control, line-separator or bidi-control characters */
                    description?: string;
                    event_types?: ("token.created" | "token.regenerated" | "token.revoked" | "token.expiring" | "token.expired" | "token.reuse_detected" | "token.leaked" | "account.disabled" | "account.password_changed")[];
                    enabled?: boolean;
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpoint"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    rotateWebhookSecret: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 7d9e2c41-5a3b-4f8e-b1c6-2e4f6a8b0c13 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: {
            content: {
                /**
                 * @example {
                 *       "password": "correct-horse-battery-staple"
                 *     }
                 */
                "application/json": {
                    /** @description your current password; required when password confirmation is on (default) */
                    password?: string;
                };
            };
        };
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookEndpointWithSecret"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    sendWebhookTest: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @example 7d9e2c41-5a3b-4f8e-b1c6-2e4f6a8b0c13 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Response */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        event_id: string;
                    };
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listWebhookDeliveries: {
        parameters: {
            query: {
                /** @example failed */
                status?: "pending" | "delivered" | "failed";
                /** @example 20 */
                limit: number;
                /**
                 * @description next_cursor of the previous page; leave it out for the first page
                 * @example WzE3NjcyMjU2MDAwMDAsIjdkOWUyYzQxLTVhM2ItNGY4ZS1iMWM2LTJlNGY2YThiMGMxMyJd
                 */
                cursor?: string;
            };
            header?: never;
            path: {
                /** @example 7d9e2c41-5a3b-4f8e-b1c6-2e4f6a8b0c13 */
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description OK */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookDeliveryPage"];
                };
            };
            /** @description Bad input: validation_failed, invalid_request, invalid_scope, invalid_target, unsupported_grant_type, password_required, unknown_scope, unknown_preset, invalid_webhook_url, invalid_expiry, overlap_too_long */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Missing or invalid credential: unauthorized, invalid_token, invalid_credentials, session_expired, invalid_client (see WWW-Authenticate) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not allowed: insufficient_scope, csrf_rejected, scope_not_permitted, password_confirmation_failed, account_more_privileged, forbidden */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description not_found */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description payload_too_large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description unsupported_media_type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description too_many_requests (see Retry-After) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description internal_error (no internal detail is ever given) */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description service_unavailable: a dependency is down or slow; never a pass (see Retry-After) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
}
