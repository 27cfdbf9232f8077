import { createRootRouteWithContext, Link, Outlet } from '@tanstack/react-router';
import type { AppServices } from '../lib/api/services';

export interface RouterContext {
  services: AppServices;
}

function NotFound() {
  return (
    <main className="mx-auto flex min-h-[60vh] max-w-md flex-col items-center justify-center gap-3 px-6 text-center">
      <p className="text-sm font-semibold text-indigo-600">404</p>
      <h1 className="text-xl font-semibold text-slate-900">This page does not exist</h1>
      <Link to="/" className="text-sm font-medium text-indigo-600 hover:text-indigo-500">
        Back to the dashboard
      </Link>
    </main>
  );
}

export const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: Outlet,
  notFoundComponent: NotFound,
});
