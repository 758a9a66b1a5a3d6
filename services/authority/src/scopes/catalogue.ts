/** Scopes are permission names. These are the authority's own; EXTRA_SCOPES adds a deployment's. */
export const BUILTIN_SCOPES: readonly { name: string; description: string }[] = [
  { name: 'tokens:read', description: 'List and read your own tokens' },
  { name: 'tokens:write', description: 'Create, edit, regenerate, copy and revoke your own tokens' },
  { name: 'tokens:introspect', description: 'Introspect tokens (RFC 7662), for services' },
  { name: 'tokens:introspect:reason', description: 'See why a token is inactive when introspecting' },
  { name: 'tokens:revoke', description: 'Revoke any token by value (RFC 7009), for services' },
  {
    name: 'tokens:revocations',
    description: 'Follow the revocation stream (GET /v1/revocations), for services that cache answers'
  },
  { name: 'accounts:read', description: 'Admin: list and read accounts and their tokens' },
  { name: 'accounts:write', description: 'Admin: create, edit and disable accounts, manage their tokens' },
  { name: 'webhooks:read', description: 'Admin: list webhook endpoints and read their delivery logs' },
  {
    name: 'webhooks:write',
    description: 'Admin: register, edit, delete webhook endpoints, rotate their secrets, send test events'
  }
]

export const BUILTIN_PRESETS: readonly { name: string; description: string; scopes: readonly string[] }[] = [
  { name: 'read-only', description: 'Read your own tokens', scopes: ['tokens:read'] },
  { name: 'ci', description: 'Manage your own tokens from automation', scopes: ['tokens:read', 'tokens:write'] },
  {
    name: 'introspection',
    description: 'A service that verifies tokens',
    scopes: ['tokens:introspect', 'tokens:introspect:reason']
  }
]

/** Default permissions by account kind when an admin creates one without a list. */
export const DEFAULT_PERMISSIONS: Record<'admin' | 'customer' | 'service', (all: readonly string[]) => string[]> = {
  admin: (all) => [...all],
  customer: () => ['tokens:read', 'tokens:write'],
  service: () => ['tokens:introspect']
}

/** Effective scopes: the token's scopes narrowed by what the owner holds now (null = all of it). */
export function effectiveScopes(tokenScopes: readonly string[] | null, ownerPermissions: readonly string[]): string[] {
  if (tokenScopes === null) return [...ownerPermissions]
  const owner = new Set(ownerPermissions)
  return tokenScopes.filter((s) => owner.has(s))
}

export function isSubset(wanted: readonly string[], of: readonly string[]): boolean {
  const set = new Set(of)
  return wanted.every((s) => set.has(s))
}

export function missingFrom(wanted: readonly string[], of: readonly string[]): string[] {
  const set = new Set(of)
  return wanted.filter((s) => !set.has(s))
}

export function normalizeScopes(scopes: readonly string[]): string[] {
  return [...new Set(scopes)].sort()
}
