import { ApiProblem, type ApiClient, type Session, type User } from './api-client.ts';
import { element } from './dom.ts';

/** Options of {@link signIn}. */
export interface SignInOptions {
  /** Roles this page serves; another role's sign-in is refused here with a message. */
  roles: readonly User['role'][];
  /** Offer "create an account" (patients register themselves). */
  allowRegister?: boolean;
  /** Heading of the form. */
  title: string;
}

/**
 * Resolves with a session of one of `roles`: the stored one when it fits, else after the person signs in (or
 * registers) through a form drawn into `container`. The form stays until then; errors are shown in it.
 */
export function signIn(client: ApiClient, container: HTMLElement, options: SignInOptions): Promise<Session> {
  const stored = client.session;
  if (stored && options.roles.includes(stored.user.role)) return Promise.resolve(stored);
  return new Promise((resolve) => {
    const email = element('input', {
      type: 'email',
      name: 'email',
      required: true,
      autocomplete: 'username',
      'data-testid': 'login-email',
    });
    const password = element('input', {
      type: 'password',
      name: 'password',
      required: true,
      minlength: 10,
      autocomplete: 'current-password',
      'data-testid': 'login-password',
    });
    const displayName = element('input', { type: 'text', name: 'displayName', 'data-testid': 'login-name' });
    const nameRow = element('label', { hidden: true }, ['Name ', displayName]);
    const error = element('p', { class: 'error', role: 'alert', 'data-testid': 'login-error' });
    let registering = false;
    const submit = element('button', { type: 'submit', 'data-testid': 'login-submit' }, ['Sign in']);
    const toggle = options.allowRegister
      ? element(
          'button',
          {
            type: 'button',
            class: 'link',
            'data-testid': 'login-toggle',
            onclick: () => {
              registering = !registering;
              nameRow.hidden = !registering;
              displayName.required = registering;
              submit.textContent = registering ? 'Create account' : 'Sign in';
              toggle!.textContent = registering ? 'I have an account' : 'Create an account';
            },
          },
          ['Create an account'],
        )
      : undefined;
    const form = element('form', { class: 'login', 'data-testid': 'login-form' }, [
      element('h2', {}, [options.title]),
      element('label', {}, ['E-mail ', email]),
      element('label', {}, ['Password ', password]),
      nameRow,
      submit,
      toggle,
      error,
    ]);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      error.textContent = '';
      submit.disabled = true;
      const attempt = registering
        ? client.register(email.value, password.value, displayName.value)
        : client.login(email.value, password.value);
      attempt
        .then(async (session) => {
          if (!options.roles.includes(session.user.role)) {
            await client.logout();
            throw new Error(
              `this page is for ${options.roles.join(' or ')}; ${session.user.email} is ${session.user.role}`,
            );
          }
          form.remove();
          resolve(session);
        })
        .catch((failure: unknown) => {
          error.textContent =
            failure instanceof ApiProblem ? failure.detail : String((failure as Error).message);
        })
        .finally(() => {
          submit.disabled = false;
        });
    });
    container.replaceChildren(form);
    email.focus();
  });
}
