import t from 'tap'
import {
  effectiveScopes,
  isSubset,
  missingFrom,
  normalizeScopes
} from '../../services/authority/src/scopes/catalogue.js'
import { ScopeCatalogue } from '../../services/authority/src/scopes/scope-catalogue.js'
import { AppError } from '../../services/authority/src/errors.js'

t.test('effective scopes: the token narrows the owner, never widens', async (t) => {
  t.same(effectiveScopes(['a:r', 'b:w'], ['a:r', 'c:x']), ['a:r'])
  t.same(effectiveScopes(['a:r'], []), [], 'an owner with nothing gives nothing')
  t.same(effectiveScopes(null, ['a:r', 'c:x']), ['a:r', 'c:x'], 'login tokens carry all of the owner')
  t.same(effectiveScopes([], ['a:r']), [])
})

t.test('subset helpers', async (t) => {
  t.ok(isSubset(['a:r'], ['a:r', 'b:w']))
  t.notOk(isSubset(['a:r', 'z:z'], ['a:r']))
  t.ok(isSubset([], []))
  t.same(missingFrom(['a:r', 'z:z', 'y:y'], ['a:r']), ['z:z', 'y:y'])
  t.same(normalizeScopes(['b:x', 'a:y', 'b:x']), ['a:y', 'b:x'])
})

t.test('catalogue resolves scopes or a preset, and refuses the rest with stable codes', async (t) => {
  const cat = new ScopeCatalogue(
    new Map([
      ['a:read', { name: 'a:read', description: '', builtin: true }],
      ['a:write', { name: 'a:write', description: '', builtin: true }]
    ]),
    new Map([['both', { name: 'both', description: '', scopes: ['a:write', 'a:read'] }]])
  )
  t.same(cat.resolve({ scopes: ['a:write', 'a:read'] }), { scopes: ['a:read', 'a:write'], preset: null })
  t.same(cat.resolve({ preset: 'both' }), { scopes: ['a:read', 'a:write'], preset: 'both' })
  const code = (fn: () => unknown) => {
    try {
      fn()
      return 'no error'
    } catch (err) {
      return err instanceof AppError ? err.code : 'other'
    }
  }
  t.equal(
    code(() => cat.resolve({ scopes: ['a:read', 'b:read'] })),
    'unknown_scope'
  )
  t.equal(
    code(() => cat.resolve({ preset: 'none' })),
    'unknown_preset'
  )
  t.equal(
    code(() => cat.resolve({})),
    'invalid_request'
  )
  t.equal(
    code(() => cat.resolve({ scopes: [] })),
    'invalid_request'
  )
  t.equal(
    code(() => cat.resolve({ scopes: ['a:read'], preset: 'both' })),
    'invalid_request'
  )
})
