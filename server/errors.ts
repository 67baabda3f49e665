/**
 * Errors are values with stable snake_case codes. One table maps them to HTTP statuses,
 * one function maps them to SMTP replies. Anything that is not an AppError is our bug:
 * HTTP 500 / SMTP 451 4.3.0 so that a sender retries instead of bouncing mail.
 */
export type ErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'validation_failed'
  | 'unauthorized'
  | 'invalid_credentials'
  | 'too_many_attempts'
  | 'forbidden'
  | 'csrf_failed'
  | 'invalid_setup_code'
  | 'not_found'
  | 'message_not_found'
  | 'discussion_not_found'
  | 'attachment_not_found'
  | 'tag_not_found'
  | 'tag_exists'
  | 'system_tag'
  | 'tab_not_found'
  | 'no_device'
  | 'device_not_found'
  | 'wrong_password'
  | 'contact_not_found'
  | 'contact_exists'
  | 'invalid_vcard'
  | 'user_not_found'
  | 'user_exists'
  | 'domain_not_found'
  | 'domain_exists'
  | 'already_set_up'
  | 'not_set_up'
  | 'invalid_search'
  | 'unknown_recipient'
  | 'relay_denied'
  | 'message_too_big'
  | 'invalid_config'
  | 'invalid_secret'
  | 'invalid_recipient'
  | 'no_recipients'
  | 'sender_not_allowed'
  | 'rate_limited'
  | 'draft_not_found'
  | 'queue_item_not_found'
  | 'relay_route_not_found'
  | 'auth_required'
  | 'invalid_key'
  | 'key_not_found'
  | 'key_not_protected'
  | 'indexing_disabled'
  | 'external_account_not_found'
  | 'external_account_exists'
  | 'external_folder_not_found'
  | 'imap_auth_failed'
  | 'imap_tls_failed'
  | 'imap_host_not_found'
  | 'imap_timeout'
  | 'imap_unreachable'
  | 'imap_failed'
  | 'plain_imap_not_loopback'
  | 'plain_smtp_not_loopback'
  | 'smtp_auth_failed'
  | 'smtp_tls_failed'
  | 'smtp_host_not_found'
  | 'smtp_timeout'
  | 'smtp_unreachable'
  | 'smtp_failed'
  | 'sync_in_progress'
  | 'autoconfig_not_found'
  | 'internal_error';

const HTTP_STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  invalid_search: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  too_many_attempts: 429,
  forbidden: 403,
  csrf_failed: 403,
  invalid_setup_code: 403,
  not_found: 404,
  message_not_found: 404,
  discussion_not_found: 404,
  attachment_not_found: 404,
  tag_not_found: 404,
  tag_exists: 409,
  system_tag: 403,
  tab_not_found: 404,
  no_device: 409,
  device_not_found: 404,
  wrong_password: 403,
  contact_not_found: 404,
  contact_exists: 409,
  invalid_vcard: 400,
  user_not_found: 404,
  domain_not_found: 404,
  user_exists: 409,
  domain_exists: 409,
  already_set_up: 409,
  not_set_up: 409,
  unknown_recipient: 400,
  relay_denied: 403,
  message_too_big: 413,
  invalid_config: 500,
  invalid_secret: 500,
  invalid_recipient: 400,
  no_recipients: 400,
  sender_not_allowed: 403,
  rate_limited: 429,
  draft_not_found: 404,
  queue_item_not_found: 404,
  relay_route_not_found: 404,
  auth_required: 401,
  invalid_key: 400,
  key_not_found: 404,
  key_not_protected: 400,
  indexing_disabled: 409,
  external_account_not_found: 404,
  external_account_exists: 409,
  external_folder_not_found: 404,
  // the remote server's answers: the user's request was fine, the account's settings are not (never 401: that is our session)
  imap_auth_failed: 422,
  imap_tls_failed: 422,
  imap_host_not_found: 422,
  imap_timeout: 504,
  imap_unreachable: 502,
  imap_failed: 502,
  plain_imap_not_loopback: 400,
  plain_smtp_not_loopback: 400,
  smtp_auth_failed: 422,
  smtp_tls_failed: 422,
  smtp_host_not_found: 422,
  smtp_timeout: 504,
  smtp_unreachable: 502,
  smtp_failed: 502,
  sync_in_progress: 409,
  autoconfig_not_found: 404,
  internal_error: 500,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

export function httpStatusOf(err: unknown): number {
  return isAppError(err) ? err.status : 500;
}

export interface SmtpReply {
  responseCode: number;
  message: string;
}

/** RFC 3463 enhanced status codes. Unknown errors are temporary: the sender keeps the mail and retries. */
export function smtpReplyOf(err: unknown): SmtpReply {
  if (isAppError(err)) {
    switch (err.code) {
      case 'unknown_recipient':
        return { responseCode: 550, message: '5.1.1 ' + err.message };
      case 'relay_denied':
        return { responseCode: 554, message: '5.7.1 ' + err.message };
      case 'message_too_big':
        return { responseCode: 552, message: '5.3.4 ' + err.message };
      case 'bad_request':
        return { responseCode: 550, message: '5.6.0 ' + err.message };
      case 'invalid_recipient':
        return { responseCode: 553, message: '5.1.3 ' + err.message };
      case 'sender_not_allowed':
        return { responseCode: 553, message: '5.7.1 ' + err.message };
      case 'auth_required':
        return { responseCode: 530, message: '5.7.0 ' + err.message };
      case 'rate_limited':
        return { responseCode: 450, message: '4.7.1 ' + err.message };
      default:
        break;
    }
  }
  return { responseCode: 451, message: '4.3.0 Temporary local problem, please try again later' };
}
