import { useNavigate } from '@tanstack/react-router';
import { useEffect, useRef } from 'react';

/**
 * Navigates once, when it mounts. (The router's <Navigate> navigates again whenever its props object
 * changes, and a layout that re-renders while the navigation is pending would re-trigger it forever.)
 */
export function Redirect({ to, search }: { to: string; search?: Record<string, string> }) {
  const navigate = useNavigate();
  const target = useRef({ to, search });
  useEffect(() => {
    void navigate({ to: target.current.to, ...(target.current.search ? { search: target.current.search } : {}), replace: true });
  }, [navigate]);
  return null;
}
