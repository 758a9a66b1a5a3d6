/**
 * House rules for rendered Kubernetes manifests: what the schemas allow but this project does not.
 * Each finding is { rule, object, message }; a rule id names one habit, so a fixture can assert that
 * exactly the rule it breaks fires (scripts/deploy-check/fixtures/).
 *
 *   probes               long-running containers have startup, readiness and liveness probes
 *   probe-paths          the authority: liveness/startup on /livez|/healthz (process only, never
 *                        MySQL/Redis), readiness on /readyz
 *   resources            every container requests cpu + memory and limits memory (request ≤ limit)
 *   non-root             runAsNonRoot true and a numeric, non-zero runAsUser (pod or container)
 *   read-only-root       readOnlyRootFilesystem true on every container
 *   privileges           no privilege escalation, capabilities drop ALL, seccomp RuntimeDefault,
 *                        not privileged, no host namespaces or hostPath volumes
 *   sa-token             no service-account token mounted (pod or its ServiceAccount says false)
 *   image                every image has a tag other than "latest", or a digest; the authority's
 *                        replicas, init container and migration Job run one image
 *   secret-files         secrets only as files: no DATABASE_URL, REDIS_URL, TOKEN_SIGNING_KEYS,
 *                        TOKEN_PEPPER, BOOTSTRAP_ADMIN_PASSWORD as env values or ConfigMap keys
 *   secret-keys          every *_FILE that points into a Secret volume names a key that Secret has
 *   secrets-out-of-band  no Secret objects in a render, except those its own secretGenerator makes
 *   shutdown             the authority: preStop delay, and a grace period ≥ 30 s that outlasts
 *                        preStop + SHUTDOWN_DELAY_MS + the 10 s drain
 *   migrations           only a Job migrates; an authority Deployment comes with its migration Job
 *   availability         the authority Deployment has an HPA and a PodDisruptionBudget
 *   hpa-replicas         a Deployment scaled by an HPA does not set spec.replicas
 *   selectors            Services, PDBs select some workload's pods; every long-running workload is
 *                        covered by a NetworkPolicy; HPAs target a Deployment in the render
 *   ports                the authority exposes ports named "http" and "metrics" (the latter matching
 *                        METRICS_PORT when the ConfigMap sets it); Service target ports exist; a
 *                        ServiceMonitor of the authority scrapes port "metrics", never "http"
 *   network-policy       the authority's policy: ingress only from labelled clients, the metrics
 *                        port only from one named namespace (monitoring), every ingress rule names
 *                        its ports; egress only to 3306, 6379, 26379 (Sentinel) and 53, and to
 *                        443/80 (webhook receivers) only towards ipBlocks that except the private,
 *                        loopback, link-local (cloud metadata) and shared address ranges
 */

/** Env names the config reads from `<NAME>_FILE` (services/authority/src/config.ts FILE_VARS). */
export const SECRET_VARS = [
  'DATABASE_URL',
  'DATABASE_READ_URL',
  'REDIS_URL',
  'REDIS_PASSWORD',
  'REDIS_SENTINEL_PASSWORD',
  'TOKEN_SIGNING_KEYS',
  'TOKEN_PEPPER',
  'BOOTSTRAP_ADMIN_PASSWORD'
]
const LONG_RUNNING = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'])
const DRAIN_SECONDS = 10 // closeWithGrace in services/authority/src/server.ts
// 26379: Redis Sentinel (REDIS_SENTINELS), for an overlay that uses it
const ALLOWED_EGRESS_PORTS = new Set([3306, 6379, 26379, 53])
/** webhook delivery: allowed only towards the internet, never to what sits inside the cluster or the node */
const WEB_EGRESS_PORTS = new Set([443, 80])
/** ranges an ipBlock of a web egress rule must except (RFC 1918, loopback, link-local metadata, CGNAT) */
const MUST_EXCEPT = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10']

const id = (o) => `${o.kind}/${o.metadata?.name ?? '?'}`

/** The pod spec and template labels of anything that runs pods. */
export function podOf(o) {
  const s = o.spec ?? {}
  if (o.kind === 'Pod') return { spec: s, labels: o.metadata?.labels ?? {} }
  if (o.kind === 'CronJob') {
    const t = s.jobTemplate?.spec?.template
    return t ? { spec: t.spec ?? {}, labels: t.metadata?.labels ?? {} } : undefined
  }
  if (LONG_RUNNING.has(o.kind) || o.kind === 'Job') {
    const t = s.template
    return t ? { spec: t.spec ?? {}, labels: t.metadata?.labels ?? {} } : undefined
  }
  return undefined
}

const isAuthorityServer = (labels) =>
  labels['app.kubernetes.io/name'] === 'token-authority' && labels['app.kubernetes.io/component'] === 'server'

/** Kubernetes quantity → number (bytes or cores). */
export function quantity(q) {
  if (typeof q === 'number') return q
  const m = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(String(q))
  if (!m) return NaN
  const f =
    { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 }[m[2]] ?? 1
  return Number(m[1]) * f
}

function matches(selector, labels) {
  if (!selector) return false
  const ml = selector.matchLabels ?? {}
  if (Object.keys(ml).length === 0 && !selector.matchExpressions?.length) return true
  for (const [k, v] of Object.entries(ml)) if (labels[k] !== v) return false
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key)
    if (e.operator === 'In' && !(has && e.values.includes(labels[e.key]))) return false
    if (e.operator === 'NotIn' && has && e.values.includes(labels[e.key])) return false
    if (e.operator === 'Exists' && !has) return false
    if (e.operator === 'DoesNotExist' && has) return false
  }
  return true
}

const plainSelectorMatches = (sel, labels) =>
  sel && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v)

/** Seconds a preStop hook waits, when it is a plain sleep (exec sleep N, or the sleep action). */
function preStopSeconds(container) {
  const h = container.lifecycle?.preStop
  if (!h) return undefined
  if (h.sleep?.seconds !== undefined) return Number(h.sleep.seconds)
  const cmd = h.exec?.command ?? []
  const i = cmd.findIndex((c) => /(^|\/)sleep$/.test(c))
  if (i >= 0 && cmd[i + 1] !== undefined) return Number(cmd[i + 1])
  const sh = cmd.join(' ').match(/\bsleep\s+([0-9.]+)/)
  return sh ? Number(sh[1]) : 0
}

/**
 * @param objects rendered objects of one target
 * @param ctx { generatedSecrets: Set<string> base names a secretGenerator of this target makes,
 *              templateSecrets: Map<secret name, Set<key>> for Secrets created out of band }
 */
export function houseRules(objects, ctx = {}) {
  const findings = []
  const fail = (rule, o, message) => findings.push({ rule, object: id(o), message })
  const generated = ctx.generatedSecrets ?? new Set()
  const templates = ctx.templateSecrets ?? new Map()

  const byKind = (k) => objects.filter((o) => o.kind === k)
  const configMaps = new Map(byKind('ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]))
  const secrets = new Map(
    byKind('Secret').map((s) => [
      s.metadata.name,
      new Set([...Object.keys(s.data ?? {}), ...Object.keys(s.stringData ?? {})])
    ])
  )
  const serviceAccounts = new Map(byKind('ServiceAccount').map((s) => [s.metadata.name, s]))
  const workloads = objects.map((o) => ({ o, pod: podOf(o) })).filter((w) => w.pod)
  const hpas = byKind('HorizontalPodAutoscaler')
  const pdbs = byKind('PodDisruptionBudget')
  const policies = byKind('NetworkPolicy')

  // --- Secrets and ConfigMaps
  for (const s of byKind('Secret')) {
    const base = s.metadata.name.replace(/-[a-z0-9]{10}$/, '')
    if (!generated.has(base) && !generated.has(s.metadata.name)) {
      fail(
        'secrets-out-of-band',
        s,
        'a Secret in the manifests: create it out of band (deploy/secret.template.yaml), or generate it in a dev overlay'
      )
    }
  }
  for (const c of byKind('ConfigMap')) {
    for (const k of Object.keys(c.data ?? {})) {
      if (SECRET_VARS.includes(k))
        fail('secret-files', c, `${k} in a ConfigMap: secrets go in the Secret, read through ${k}_FILE`)
    }
  }

  for (const { o, pod } of workloads) {
    const spec = pod.spec
    const podSc = spec.securityContext ?? {}
    const server = isAuthorityServer(pod.labels)
    const longRunning = LONG_RUNNING.has(o.kind) || o.kind === 'Pod'
    const containers = spec.containers ?? []
    const all = [
      ...(spec.initContainers ?? []).map((c) => ({ c, init: true })),
      ...containers.map((c) => ({ c, init: false }))
    ]

    // pod level
    if (spec.hostNetwork || spec.hostPID || spec.hostIPC)
      fail('privileges', o, 'host namespaces (hostNetwork/hostPID/hostIPC)')
    for (const v of spec.volumes ?? []) if (v.hostPath) fail('privileges', o, `hostPath volume ${v.name}`)
    const sa = serviceAccounts.get(spec.serviceAccountName ?? 'default')
    const automount = spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken
    if (automount !== false)
      fail('sa-token', o, 'automountServiceAccountToken is not false (pod or its ServiceAccount)')

    const secretMounts = new Map() // mountPath → secret name
    for (const v of spec.volumes ?? []) {
      if (!v.secret) continue
      for (const { c } of all)
        for (const m of c.volumeMounts ?? [])
          if (m.name === v.name) secretMounts.set(m.mountPath.replace(/\/$/, ''), v.secret.secretName)
    }

    for (const { c, init } of all) {
      const where = `${init ? 'init container' : 'container'} ${c.name}`
      const sc = c.securityContext ?? {}

      // resources
      const req = c.resources?.requests ?? {}
      const lim = c.resources?.limits ?? {}
      const missing = [
        req.cpu === undefined && 'requests.cpu',
        req.memory === undefined && 'requests.memory',
        lim.memory === undefined && 'limits.memory'
      ].filter(Boolean)
      if (missing.length) fail('resources', o, `${where}: no ${missing.join(', ')}`)
      else if (quantity(req.memory) > quantity(lim.memory))
        fail('resources', o, `${where}: memory request ${req.memory} above its limit ${lim.memory}`)

      // identity
      const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot
      const user = sc.runAsUser ?? podSc.runAsUser
      if (nonRoot !== true) fail('non-root', o, `${where}: runAsNonRoot is not true`)
      if (!Number.isInteger(user))
        fail('non-root', o, `${where}: no numeric runAsUser (the image's USER may be a name the kubelet cannot check)`)
      else if (user === 0) fail('non-root', o, `${where}: runAsUser 0`)
      if ((sc.runAsGroup ?? podSc.runAsGroup) === 0) fail('non-root', o, `${where}: runAsGroup 0`)

      if (sc.readOnlyRootFilesystem !== true) fail('read-only-root', o, `${where}: readOnlyRootFilesystem is not true`)

      if (sc.allowPrivilegeEscalation !== false)
        fail('privileges', o, `${where}: allowPrivilegeEscalation is not false`)
      if (sc.privileged === true) fail('privileges', o, `${where}: privileged`)
      if (!(sc.capabilities?.drop ?? []).includes('ALL'))
        fail('privileges', o, `${where}: capabilities do not drop ALL`)
      const added = (sc.capabilities?.add ?? []).filter((x) => x !== 'NET_BIND_SERVICE')
      if (added.length) fail('privileges', o, `${where}: adds capabilities ${added.join(', ')}`)
      const seccomp = (sc.seccompProfile ?? podSc.seccompProfile)?.type
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
        fail('privileges', o, `${where}: seccompProfile is not RuntimeDefault`)

      // image
      const image = String(c.image ?? '')
      const lastPart = image.split('/').pop() ?? ''
      if (!image.includes('@sha256:') && (!lastPart.includes(':') || lastPart.endsWith(':latest'))) {
        fail('image', o, `${where}: image "${image}" has no tag or is :latest`)
      }

      // secrets as files only
      for (const e of c.env ?? []) {
        if (SECRET_VARS.includes(e.name))
          fail('secret-files', o, `${where}: ${e.name} in the environment; mount the Secret and set ${e.name}_FILE`)
        const m = /^(.*)_FILE$/.exec(e.name)
        if (m && typeof e.value === 'string') {
          const dir = e.value.replace(/\/[^/]+$/, '')
          const key = e.value.split('/').pop()
          const secretName = secretMounts.get(dir)
          if (secretName !== undefined) {
            const keys = secrets.get(secretName) ?? templates.get(secretName)
            if (keys === undefined)
              fail(
                'secret-keys',
                o,
                `${where}: ${e.name} reads Secret ${secretName}, which is neither rendered nor described by a template`
              )
            else if (!keys.has(key))
              fail('secret-keys', o, `${where}: ${e.name} reads key "${key}", which Secret ${secretName} does not have`)
          }
        }
      }

      // migrations
      const argv = [...(c.command ?? []), ...(c.args ?? [])].join(' ')
      if (/\bmigrate\s+(up|down)\b/.test(argv) && o.kind !== 'Job')
        fail('migrations', o, `${where}: runs "migrate up/down"; only the migration Job migrates`)

      if (init) continue

      // probes
      if (longRunning) {
        const absent = ['startupProbe', 'readinessProbe', 'livenessProbe'].filter((p) => !c[p])
        if (absent.length) fail('probes', o, `${where}: no ${absent.join(', ')}`)
      }

      if (server && c.name === containers[0]?.name) {
        const path = (p) => p?.httpGet?.path
        for (const p of ['livenessProbe', 'startupProbe']) {
          if (c[p] && !['/livez', '/healthz'].includes(path(c[p]))) {
            fail(
              'probe-paths',
              o,
              `${where}: ${p} is ${path(c[p]) ?? 'not an HTTP GET'}; it must check the process only (/livez), never MySQL or Redis`
            )
          }
        }
        if (c.readinessProbe && path(c.readinessProbe) !== '/readyz')
          fail(
            'probe-paths',
            o,
            `${where}: readinessProbe is ${path(c.readinessProbe) ?? 'not an HTTP GET'}, not /readyz`
          )

        if (!(c.ports ?? []).some((p) => p.name === 'http')) fail('ports', o, `${where}: no port named "http"`)
        const metricsPort = (c.ports ?? []).find((p) => p.name === 'metrics')
        if (!metricsPort) fail('ports', o, `${where}: no port named "metrics" (GET /metrics is not served on "http")`)
        for (const ef of c.envFrom ?? []) {
          const v = ef.configMapRef && configMaps.get(ef.configMapRef.name)?.METRICS_PORT
          if (v !== undefined && metricsPort && Number(v) !== metricsPort.containerPort) {
            fail(
              'ports',
              o,
              `${where}: METRICS_PORT ${v} in the ConfigMap, but the "metrics" containerPort is ${metricsPort.containerPort}`
            )
          }
        }

        // shutdown budget
        const preStop = preStopSeconds(c)
        let delayMs = 5000
        for (const ef of c.envFrom ?? []) {
          const v = ef.configMapRef && configMaps.get(ef.configMapRef.name)?.SHUTDOWN_DELAY_MS
          if (v !== undefined) delayMs = Number(v)
        }
        const direct = (c.env ?? []).find((e) => e.name === 'SHUTDOWN_DELAY_MS')
        if (direct?.value !== undefined) delayMs = Number(direct.value)
        const grace = spec.terminationGracePeriodSeconds ?? 30
        const needed = (preStop ?? 0) + delayMs / 1000 + DRAIN_SECONDS
        if (!preStop) fail('shutdown', o, `${where}: no preStop delay (endpoints must drop the pod before SIGTERM)`)
        if (grace < 30 || grace <= needed) {
          fail(
            'shutdown',
            o,
            `terminationGracePeriodSeconds ${grace} must be ≥ 30 and longer than preStop ${preStop ?? 0} s + SHUTDOWN_DELAY_MS ${delayMs / 1000} s + drain ${DRAIN_SECONDS} s`
          )
        }
      }
    }

    // per-workload cross checks
    if (longRunning && !policies.some((p) => matches(p.spec?.podSelector, pod.labels))) {
      fail('selectors', o, 'no NetworkPolicy selects its pods')
    }
    if (server) {
      if (o.kind === 'Deployment') {
        const hpa = hpas.find(
          (h) => h.spec?.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef.name === o.metadata.name
        )
        if (!hpa) fail('availability', o, 'no HorizontalPodAutoscaler targets it')
        if (!pdbs.some((p) => matches(p.spec?.selector, pod.labels)))
          fail('availability', o, 'no PodDisruptionBudget selects its pods')
        const migrateJob = workloads.some(
          ({ o: j, pod: jp }) =>
            j.kind === 'Job' &&
            [...(jp.spec.containers ?? [])].some((c) =>
              /\bmigrate\s+up\b/.test([...(c.command ?? []), ...(c.args ?? [])].join(' '))
            )
        )
        if (!migrateJob) fail('migrations', o, 'no Job runs "migrate up" next to it')
      }
      const own = policies.filter((p) => matches(p.spec?.podSelector, pod.labels))
      for (const p of own) {
        const metricsNumbers = new Set(
          (pod.spec.containers ?? []).flatMap((c) =>
            (c.ports ?? []).filter((cp) => cp.name === 'metrics').map((cp) => cp.containerPort)
          )
        )
        for (const rule of p.spec?.ingress ?? []) {
          const from = rule.from ?? []
          if (from.length === 0) fail('network-policy', p, 'an ingress rule with no "from" admits every pod')
          for (const peer of from) {
            if (peer.ipBlock) continue
            const labelled =
              peer.podSelector &&
              Object.keys(peer.podSelector.matchLabels ?? {}).length +
                (peer.podSelector.matchExpressions?.length ?? 0) >
                0
            if (!labelled) fail('network-policy', p, 'an ingress peer without a pod label selector')
          }
          const ports = rule.ports ?? []
          if (ports.length === 0) fail('network-policy', p, 'an ingress rule with no ports admits the metrics port too')
          const toMetrics = ports.some((port) => port.port === 'metrics' || metricsNumbers.has(Number(port.port)))
          if (toMetrics) {
            const oneNamespace = (peer) =>
              typeof peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'string'
            if (!from.every(oneNamespace))
              fail(
                'network-policy',
                p,
                'the metrics port is admitted from peers outside one named namespace (only the monitoring namespace scrapes)'
              )
          }
        }
        for (const rule of p.spec?.egress ?? []) {
          const ports = rule.ports ?? []
          if (ports.length === 0) fail('network-policy', p, 'an egress rule with no ports allows everything')
          for (const port of ports) {
            if (ALLOWED_EGRESS_PORTS.has(Number(port.port))) continue
            if (WEB_EGRESS_PORTS.has(Number(port.port))) {
              const peers = rule.to ?? []
              const fenced =
                peers.length > 0 &&
                peers.every((peer) => {
                  const block = peer.ipBlock
                  if (block === undefined || peer.namespaceSelector || peer.podSelector) return false
                  const except = new Set(block.except ?? [])
                  return block.cidr !== '0.0.0.0/0' || MUST_EXCEPT.every((range) => except.has(range))
                })
              if (!fenced)
                fail(
                  'network-policy',
                  p,
                  `egress to port ${port.port} (webhooks) must go to ipBlocks that except ${MUST_EXCEPT.join(', ')}`
                )
              continue
            }
            fail(
              'network-policy',
              p,
              `egress to port ${port.port}: only MySQL 3306, Redis 6379, Sentinel 26379, DNS 53 and webhooks (443/80, fenced)`
            )
          }
        }
      }
      if (own.length && !own.some((p) => (p.spec?.policyTypes ?? []).includes('Egress')))
        fail('network-policy', o, 'no NetworkPolicy restricts its egress')
    }
  }

  // --- one release: the replicas, their init container and the migration Job run the same image
  const authorityImages = new Set()
  for (const { pod } of workloads) {
    if (pod.labels['app.kubernetes.io/name'] !== 'token-authority') continue
    for (const c of [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])]) authorityImages.add(c.image)
  }
  if (authorityImages.size > 1) {
    findings.push({
      rule: 'image',
      object: 'token-authority',
      message: `its workloads run different images (${[...authorityImages].join(', ')}): the Job would migrate for another release`
    })
  }

  // --- autoscaling and disruption budgets
  for (const h of hpas) {
    const ref = h.spec?.scaleTargetRef ?? {}
    const target = objects.find((o) => o.kind === ref.kind && o.metadata?.name === ref.name)
    if (!target) fail('selectors', h, `scaleTargetRef ${ref.kind}/${ref.name} is not in the manifests`)
    else if (target.spec?.replicas !== undefined)
      fail('hpa-replicas', target, 'sets spec.replicas while an HPA scales it (every apply would reset the count)')
  }
  for (const p of pdbs) {
    if (!workloads.some((w) => LONG_RUNNING.has(w.o.kind) && matches(p.spec?.selector, w.pod.labels)))
      fail('selectors', p, 'selects no workload')
  }

  // --- the authority is scraped on its metrics port, never on the API port
  for (const m of byKind('ServiceMonitor')) {
    if (m.metadata?.labels?.['app.kubernetes.io/name'] !== 'token-authority') continue
    for (const e of m.spec?.endpoints ?? []) {
      if (e.port !== 'metrics')
        fail('ports', m, `scrapes port ${e.port ?? e.targetPort ?? '?'}; /metrics is served on port "metrics" only`)
    }
  }

  // --- Services select pods, and their target ports exist there
  for (const s of byKind('Service')) {
    const sel = s.spec?.selector
    if (!sel) continue
    const selected = workloads.filter((w) => LONG_RUNNING.has(w.o.kind) && plainSelectorMatches(sel, w.pod.labels))
    if (selected.length === 0) {
      fail('selectors', s, `selector ${JSON.stringify(sel)} matches no workload's pods`)
      continue
    }
    if (workloads.some((w) => w.o.kind === 'Job' && plainSelectorMatches(sel, w.pod.labels)))
      fail('selectors', s, "selects a Job's pods")
    for (const port of s.spec?.ports ?? []) {
      const tp = port.targetPort ?? port.port
      const ok = selected.every((w) =>
        (w.pod.spec.containers ?? []).some((c) =>
          (c.ports ?? []).some((cp) => (typeof tp === 'string' ? cp.name === tp : cp.containerPort === tp))
        )
      )
      if (!ok) fail('ports', s, `targetPort ${tp} is not a port of the selected pods`)
    }
  }

  return findings
}
