/**
 * One username, one spelling (docs/security-model.md, "Usernames").
 *
 * - The canonical form of whatever was typed: Unicode NFKC, then lower case (then NFKC again, so
 *   the form is stable). Fullwidth `ＡＤＭＩＮ` and `Admin` are both `admin`.
 * - A valid name is a canonical form that matches {@link CANONICAL_USERNAME}: 1 to 128 characters,
 *   ASCII letters and digits, and `.` `_` `@` `-` after the first. No whitespace of any kind, no
 *   control, zero-width, bidi or other invisible character, no other script (no lookalikes).
 * - Creation takes a name typed in that alphabet, letters in either case
 *   ({@link USERNAME_INPUT_PATTERN}), and stores its canonical form.
 * - Login canonicalises what was typed and looks it up exactly (the database compares without
 *   padding); a spelling outside the pattern matches no account made under these rules, and is
 *   answered like an unknown user after the same work.
 * - The login throttle counts {@link throttleName}: the canonical form with every invisible
 *   character removed, so `victim`, `Victim `, `vic\u200btim` and `ｖｉｃｔｉｍ\u00a0` spend one budget.
 */

export const USERNAME_MAX_LENGTH = 128

/** what creation accepts as typed (the accounts route's schema and the service agree) */
export const USERNAME_INPUT_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._@-]*$'
const INPUT = new RegExp(USERNAME_INPUT_PATTERN)

/** a valid canonical username */
export const CANONICAL_USERNAME = /^[a-z0-9][a-z0-9._@-]{0,127}$/

/**
 * Whitespace, controls, format characters (zero-width, bidi controls, soft hyphen, BOM) and the
 * other default-ignorable code points: what can make two names look alike or alone.
 */
const INVISIBLE = /[\p{White_Space}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu

/** NFKC, lower case, NFKC: the one form a name is stored, looked up and throttled by */
export function canonicalUsername(typed: string): string {
  return typed.normalize('NFKC').toLowerCase().normalize('NFKC')
}

export function isValidUsername(canonical: string): boolean {
  return CANONICAL_USERNAME.test(canonical)
}

/** The stored form of a new account's name, or null when the name may not be created. */
export function usernameForCreation(typed: string): string | null {
  if (typed.length > USERNAME_MAX_LENGTH || !INPUT.test(typed)) return null
  const canonical = canonicalUsername(typed)
  return isValidUsername(canonical) ? canonical : null
}

/**
 * The name the login throttle counts an attempt against: the canonical form without invisible
 * characters. For a valid name it is the name itself; every spelling that could be mistaken for
 * it (spaces, no-break spaces, zero-width characters, any case or width) lands on the same one.
 */
export function throttleName(typedOrStored: string): string {
  return canonicalUsername(canonicalUsername(typedOrStored).replace(INVISIBLE, ''))
}
