// Hash routes, so the server needs no index.html fallback: #/, #/new,
// #/stacks/<id>[/<tab>], #/deployments/<id>, #/audit, #/notifiers, #/hosts.

export const STACK_TABS = ['overview', 'deployments', 'versions', 'logs', 'settings'] as const;
export type StackTab = (typeof STACK_TABS)[number];

export type Route =
  | { page: 'stacks' }
  | { page: 'new' }
  | { page: 'audit' }
  | { page: 'notifiers' }
  | { page: 'hosts' }
  | { page: 'stack'; stack: string; tab: StackTab }
  | { page: 'deployment'; id: string }
  | { page: 'not_found'; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/\/+$/, '') || '/';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: 'stacks' };
  if (parts[0] === 'new' && parts.length === 1) return { page: 'new' };
  if (parts[0] === 'audit' && parts.length === 1) return { page: 'audit' };
  if (parts[0] === 'notifiers' && parts.length === 1) return { page: 'notifiers' };
  if (parts[0] === 'hosts' && parts.length === 1) return { page: 'hosts' };
  if (parts[0] === 'stacks' && parts[1] && parts.length <= 3) {
    const tab = (parts[2] ?? 'overview') as StackTab;
    if (STACK_TABS.includes(tab)) return { page: 'stack', stack: parts[1], tab };
  }
  if (parts[0] === 'deployments' && parts[1] && parts.length === 2) {
    return { page: 'deployment', id: parts[1] };
  }
  return { page: 'not_found', path };
}

export function href(route: Route): string {
  switch (route.page) {
    case 'stacks':
      return '#/';
    case 'new':
      return '#/new';
    case 'audit':
      return '#/audit';
    case 'notifiers':
      return '#/notifiers';
    case 'hosts':
      return '#/hosts';
    case 'stack':
      return `#/stacks/${encodeURIComponent(route.stack)}${route.tab === 'overview' ? '' : `/${route.tab}`}`;
    case 'deployment':
      return `#/deployments/${encodeURIComponent(route.id)}`;
    case 'not_found':
      return `#${route.path}`;
  }
}

export const links = {
  stacks: () => href({ page: 'stacks' }),
  newStack: () => href({ page: 'new' }),
  audit: () => href({ page: 'audit' }),
  notifiers: () => href({ page: 'notifiers' }),
  hosts: () => href({ page: 'hosts' }),
  stack: (stack: string, tab: StackTab = 'overview') => href({ page: 'stack', stack, tab }),
  deployment: (id: string) => href({ page: 'deployment', id }),
};
