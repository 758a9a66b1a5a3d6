import { createContext, type ComponentChildren } from 'preact'
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks'
import { AccountsScreen, AccountScreen } from './accounts.tsx'
import { api, call, session as sessionApi, whenSessionLost, type ScopeCatalogue, type Session } from './api.ts'
import { type SecretKind, ValueDialog } from './dialogs.tsx'
import { messageOf } from './errors.ts'
import { PasswordScreen } from './password.tsx'
import { SignIn } from './sign-in.tsx'
import { EditScreen, GenerateScreen } from './token-form.tsx'
import { TokensScreen } from './tokens.tsx'
import { WebhookScreen, WebhooksScreen } from './webhooks.tsx'

export const BASE = '/console/'

export interface Shared {
  session: Session
  catalogue: ScopeCatalogue | null
  navigate: (path: string) => void
  /** show a new token value once (the app holds it in state until the dialog is closed) */
  reveal: (name: string, value: string, kind?: SecretKind) => void
  isAdmin: boolean
  /** holds webhooks:read (the Webhooks screen); writes need webhooks:write */
  mayReadWebhooks: boolean
  mayWriteWebhooks: boolean
  /** this session has ended (e.g. revoked by its own holder): back to sign-in, saying `notice` */
  signedOut: (notice: string) => void
}

const SharedContext = createContext<Shared | null>(null)
export function useShared(): Shared {
  const s = useContext(SharedContext)
  if (!s) throw new Error('useShared outside the signed-in app')
  return s
}

function currentPath(): string {
  const p = location.pathname
  return p.startsWith(BASE) ? p.slice(BASE.length).replace(/\/+$/, '') : ''
}

export function App() {
  const [session, setSession] = useState<Session | null | 'loading'>('loading')
  const [notice, setNotice] = useState('')
  const [path, setPath] = useState(currentPath())
  const [catalogue, setCatalogue] = useState<ScopeCatalogue | null>(null)
  const [issued, setIssued] = useState<{ name: string; value: string; kind: SecretKind } | null>(null)

  const navigate = useCallback((to: string) => {
    history.pushState(null, '', BASE + to)
    setPath(to)
  }, [])

  useEffect(() => {
    const onPop = () => setPath(currentPath())
    addEventListener('popstate', onPop)
    whenSessionLost((e) => {
      setIssued(null)
      setSession(null)
      setNotice(e.message)
    })
    sessionApi
      .current()
      .then(setSession)
      .catch(() => setSession(null))
    return () => removeEventListener('popstate', onPop)
  }, [])

  // after a route change, keyboard and screen-reader users continue from the new screen's content
  const firstPath = useRef(true)
  useEffect(() => {
    if (firstPath.current) {
      firstPath.current = false
      return
    }
    document.getElementById('main')?.focus()
  }, [path])

  useEffect(() => {
    if (session === null || session === 'loading') return
    call(api.GET('/v1/scopes'))
      .then(setCatalogue)
      .catch(() => setCatalogue(null))
  }, [session])

  if (session === 'loading') return <p class="loading">Loading…</p>
  if (session === null)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(s) => {
          setNotice('')
          setSession(s)
        }}
      />
    )

  const isAdmin = session.account.permissions.includes('accounts:read')
  const mayReadWebhooks = session.account.permissions.includes('webhooks:read')
  const shared: Shared = {
    session,
    catalogue,
    navigate,
    isAdmin,
    mayReadWebhooks,
    mayWriteWebhooks: session.account.permissions.includes('webhooks:write'),
    reveal: (name, value, kind = 'token') => setIssued({ name, value, kind }),
    signedOut: (notice) => {
      setIssued(null)
      setSession(null)
      setNotice(notice)
    }
  }
  const signOut = async () => {
    try {
      await sessionApi.signOut()
    } catch (e) {
      // the session may already be gone; the page forgets it either way
      setNotice(messageOf(e))
    }
    setIssued(null)
    setSession(null)
    setNotice('You are signed out.')
    history.replaceState(null, '', BASE)
    setPath('')
  }

  return (
    <SharedContext.Provider value={shared}>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Token console</span>
        <nav aria-label="Main">
          <NavLink to="" current={path === '' || path.startsWith('tokens/')}>
            Tokens
          </NavLink>
          <NavLink to="password" current={path === 'password'}>
            Password
          </NavLink>
          {isAdmin && (
            <NavLink to="accounts" current={path.startsWith('accounts')}>
              Accounts
            </NavLink>
          )}
          {mayReadWebhooks && (
            <NavLink to="webhooks" current={path.startsWith('webhooks')}>
              Webhooks
            </NavLink>
          )}
        </nav>
        <span class="who">
          <span class="username">{session.account.username}</span> <span class="badge">{session.account.kind}</span>
        </span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Route path={path} />
      </main>
      {issued && (
        <ValueDialog name={issued.name} value={issued.value} kind={issued.kind} onClose={() => setIssued(null)} />
      )}
    </SharedContext.Provider>
  )
}

function Route(props: { path: string }) {
  const { isAdmin, mayReadWebhooks } = useShared()
  const p = props.path
  if (p === '' || p === 'tokens') return <TokensScreen />
  if (p === 'tokens/new') return <GenerateScreen />
  const token = /^tokens\/([A-Za-z0-9_-]{22})$/.exec(p)
  if (token) return <EditScreen id={token[1]!} />
  if (p === 'password') return <PasswordScreen />
  if (p === 'accounts' || p.startsWith('accounts/')) {
    if (!isAdmin) return <NotHere text="Accounts are for administrators." />
    const account = /^accounts\/([0-9a-f-]{36})$/.exec(p)
    if (account) return <AccountScreen id={account[1]!} />
    return <AccountsScreen />
  }
  if (p === 'webhooks' || p.startsWith('webhooks/')) {
    if (!mayReadWebhooks) return <NotHere text="Webhooks are for administrators who may read them." />
    const endpoint = /^webhooks\/([0-9a-f-]{36})$/.exec(p)
    if (endpoint) return <WebhookScreen id={endpoint[1]!} />
    return <WebhooksScreen />
  }
  return <NotHere text="There is no such page in the console." />
}

function NotHere(props: { text: string }) {
  return (
    <section>
      <h1>Not available</h1>
      <p>{props.text}</p>
      <p>
        <Link to="">Back to your tokens</Link>
      </p>
    </section>
  )
}

export function Link(props: { to: string; children: ComponentChildren; class?: string }) {
  const { navigate } = useShared()
  return (
    <a
      href={BASE + props.to}
      class={props.class}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return
        e.preventDefault()
        navigate(props.to)
      }}
    >
      {props.children}
    </a>
  )
}

function NavLink(props: { to: string; current: boolean; children: ComponentChildren }) {
  const { navigate } = useShared()
  return (
    <a
      href={BASE + props.to}
      aria-current={props.current ? 'page' : undefined}
      onClick={(e) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return
        e.preventDefault()
        navigate(props.to)
      }}
    >
      {props.children}
    </a>
  )
}
