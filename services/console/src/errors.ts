import type { components } from '../../../openapi/client/schema.ts'

/** the `code` of an error body, as the OpenAPI document enumerates it (generated from the catalogue) */
export type ErrorCode = components['schemas']['Error']['code']

/**
 * Every error code the API answers with, as a sentence for people. The catalogue lives in
 * services/authority/src/errors.ts (docs/errors.md); the console branches on `code`, never on
 * `message`. Typed against the generated enum: a code added to the catalogue fails the console's
 * type-check until it has its sentence here.
 */
const SENTENCES: Record<ErrorCode, string> = {
  validation_failed: 'Some of what you entered is not accepted. Check the fields and try again.',
  invalid_request: 'The request was not formed the way the server expects. Reload the page and try again.',
  password_required: 'Enter your password to confirm this change.',
  invalid_scope: 'That scope cannot be asked for here.',
  invalid_target: 'That audience is not one this server issues tokens for.',
  unsupported_grant_type: 'This kind of token request is not supported.',
  unknown_scope: 'One of the chosen scopes does not exist on this server any more. Reload and choose again.',
  unknown_preset: 'That preset does not exist on this server any more. Reload and choose again.',
  invalid_expiry:
    'That expiry date is not allowed: it must be in the future and within the server’s maximum token lifetime.',
  overlap_too_long:
    'That overlap is longer than this server allows for keeping an old value working. Choose a shorter one (or none).',
  token_superseded:
    'This token has already been regenerated: its old value only works until the overlap ends, so it cannot be changed.',
  invalid_webhook_url:
    'That webhook URL is not accepted: use an http(s) address without a user name or password that this server may call.',
  unauthorized: 'You are signed out. Sign in to continue.',
  session_expired: 'Your session has expired. Sign in again to continue.',
  invalid_token: 'Your session is no longer valid. Sign in again to continue.',
  invalid_credentials: 'Wrong username or password (or the account is disabled, or belongs to the other realm).',
  invalid_client: 'The caller could not be authenticated.',
  insufficient_scope: 'Your account is not allowed to do this.',
  scope_not_permitted: 'You can only give scopes your account holds, and an edit can only narrow a token’s scopes.',
  password_confirmation_failed: 'That password is not right. Try again.',
  account_more_privileged: 'That account holds permissions you do not have, so you cannot change it.',
  forbidden: 'This is not allowed: the account may be disabled, or you tried to disable your own account.',
  not_found: 'It is not there any more: it may have been removed in the meantime. Refresh and try again.',
  token_inactive: 'This token has expired or been revoked, so it can no longer be changed.',
  conflict: 'Someone changed this token at the same time. Refresh and try again.',
  username_taken: 'An account with that username already exists.',
  last_admin: 'This would leave no administrator able to manage accounts. Give another admin that permission first.',
  payload_too_large: 'What you entered is too long.',
  unsupported_media_type: 'The request was sent in a format the server does not accept.',
  too_many_requests: 'Too many attempts. Wait a moment before trying again.',
  csrf_rejected: 'The request was refused because it did not come from this console. Reload the page.',
  internal_error: 'Something went wrong on the server. Try again; if it keeps happening, tell your administrator.',
  service_unavailable: 'The server is busy or cannot reach its database right now. Try again in a moment.'
}

export const NETWORK_ERROR = 'The server could not be reached. Check your connection and try again.'

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly serverMessage: string,
    readonly retryAfter: number | null = null
  ) {
    super(humanMessage(code, serverMessage, retryAfter))
    this.name = 'ApiError'
  }
}

export function humanMessage(code: string, serverMessage = '', retryAfter: number | null = null): string {
  let sentence = (SENTENCES as Record<string, string>)[code] ?? (serverMessage || 'The request failed.')
  // validation messages name the field; they are safe to show and more helpful than the generic line
  if (code === 'validation_failed' && serverMessage) sentence = `${sentence} (${serverMessage})`
  if (code === 'too_many_requests' && retryAfter) sentence = `Too many attempts. Try again in ${retryAfter} s.`
  return sentence
}

/** the codes that mean "this session is over": back to sign-in */
export function endsSession(e: unknown): e is ApiError {
  return e instanceof ApiError && e.status === 401 && e.code !== 'invalid_credentials'
}

export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message
  return NETWORK_ERROR
}
