/** The committed OpenAPI document: its operations, and an Ajv validator per declared response. (test/features/openapi-fuzz.test.ts) */
import { readFileSync } from 'node:fs'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule, { type FormatsPlugin } from 'ajv-formats'

// ---------------------------------------------------------------------------------------------
// The document
// ---------------------------------------------------------------------------------------------

export interface Schema {
  $ref?: string
  type?: string
  enum?: unknown[]
  const?: unknown
  nullable?: boolean
  format?: string
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  items?: Schema
  minItems?: number
  maxItems?: number
  uniqueItems?: boolean
  properties?: Record<string, Schema>
  required?: string[]
  additionalProperties?: boolean | Schema
  anyOf?: Schema[]
  oneOf?: Schema[]
  allOf?: Schema[]
  description?: string
}
export interface Parameter {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required?: boolean
  schema: Schema
}
export interface ResponseObject {
  description: string
  content?: Record<string, { schema?: Schema }>
}
export interface OperationObject {
  operationId: string
  parameters?: Parameter[]
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> }
  responses: Record<string, ResponseObject>
  security?: Record<string, string[]>[]
}
export interface Operation {
  id: string
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  pathParams: Parameter[]
  queryParams: Parameter[]
  /** media type → schema */
  bodies: Record<string, Schema>
  bodyRequired: boolean
  responses: Record<string, ResponseObject>
  secured: boolean
}

export const root = new URL('../../../', import.meta.url).pathname
export const DOC_ID = 'openapi.json'
export const doc = JSON.parse(readFileSync(`${root}openapi/openapi.json`, 'utf8')) as {
  paths: Record<string, Record<string, OperationObject>>
  components: { schemas: Record<string, Schema> }
}

export const OPERATIONS: Operation[] = []
for (const [path, item] of Object.entries(doc.paths)) {
  for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
    const op = item[method]
    if (op === undefined) continue
    // a Server-Sent Events stream never ends on its own, so inject() would wait for ever: the
    // revocation stream has its own tests (features/revocation-log.test.ts)
    if (
      Object.keys((op.responses['200'] as { content?: Record<string, unknown> } | undefined)?.content ?? {}).includes(
        'text/event-stream'
      )
    )
      continue
    const params = op.parameters ?? []
    OPERATIONS.push({
      id: op.operationId,
      method: method.toUpperCase() as Operation['method'],
      path,
      pathParams: params.filter((p) => p.in === 'path'),
      queryParams: params.filter((p) => p.in === 'query'),
      bodies: Object.fromEntries(Object.entries(op.requestBody?.content ?? {}).map(([m, c]) => [m, c.schema])),
      bodyRequired: op.requestBody?.required === true,
      responses: op.responses,
      // `{}` among the requirements: the credential is optional (sign-out answers 204 either way)
      secured: (op.security ?? []).length > 0 && !(op.security ?? []).some((r) => Object.keys(r).length === 0)
    })
  }
}

export function deref(s: Schema): Schema {
  let cur = s
  for (let i = 0; cur.$ref !== undefined && i < 20; i++) {
    const name = cur.$ref.replace('#/components/schemas/', '')
    const next = doc.components.schemas[name]
    if (next === undefined) throw new Error(`unresolvable $ref ${cur.$ref}`)
    cur = next
  }
  return cur
}

// ---------------------------------------------------------------------------------------------
// Response validation: Ajv over the document itself (refs resolve inside it)
// ---------------------------------------------------------------------------------------------

// ajv-formats is CommonJS: its default export arrives as module.exports (which also has .default)
export const addFormats = ((addFormatsModule as unknown as { default?: FormatsPlugin }).default ??
  addFormatsModule) as FormatsPlugin
// strict off: the document carries OpenAPI keywords (openapi, paths, nullable…) that are not JSON
// Schema; `nullable` itself is understood by Ajv 8.
export const ajv = new Ajv({ strict: false, allErrors: true })
addFormats(ajv)
ajv.addSchema(doc, DOC_ID)
export const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')
export const validators = new Map<string, ValidateFunction>()
export function responseValidator(op: Operation, status: string, media: string): ValidateFunction {
  const key = `${op.id} ${status} ${media}`
  let v = validators.get(key)
  if (v === undefined) {
    const ref = `${DOC_ID}#/${pointer('paths', op.path, op.method.toLowerCase(), 'responses', status, 'content', media, 'schema')}`
    v = ajv.compile({ $ref: ref })
    validators.set(key, v)
  }
  return v
}
