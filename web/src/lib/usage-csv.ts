import type { Session } from './api/session';

/**
 * "Download CSV" of the usage page: GET /usage.csv on the gateway (issue 14) with the session's
 * access token, saved under the file name the gateway gives. The gateway wants the token in the
 * Authorization header, so a plain link cannot do: the file is fetched and handed to the browser as
 * a blob. A refused token is refreshed once, as API requests are.
 */

export type UsageCsvGroupBy = 'DAY' | 'APP' | 'WORKFLOW' | 'PROVIDER';

export interface UsageCsvRequest {
  from: string;
  to: string;
  groupBy: UsageCsvGroupBy;
}

export const usageCsvUrl = (request: UsageCsvRequest): string => `/usage.csv?${new URLSearchParams({ from: request.from, to: request.to, groupBy: request.groupBy }).toString()}`;

/** The file name of a content-disposition header (`attachment; filename="usage-day-….csv"`). */
export function fileNameOf(disposition: string | null, fallback: string): string {
  const match = /filename="([^"]+)"/.exec(disposition ?? '');
  return match?.[1] ?? fallback;
}

export async function fetchUsageCsv(session: Pick<Session, 'getAccessToken' | 'refresh'>, request: UsageCsvRequest, doFetch: typeof fetch = (input, init) => fetch(input, init)): Promise<{ fileName: string; blob: Blob }> {
  let token = await session.getAccessToken();
  for (let attempt = 0; ; attempt += 1) {
    const response = await doFetch(usageCsvUrl(request), { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (response.status === 401 && token && attempt === 0) {
      token = await session.refresh(token);
      continue;
    }
    // Refusals are text: "BAD_USER_INPUT (to): `to` must be after `from`".
    if (!response.ok) throw new Error((await response.text()).trim() || `the usage export failed (HTTP ${response.status})`);
    return { fileName: fileNameOf(response.headers.get('content-disposition'), `usage-${request.groupBy.toLowerCase()}.csv`), blob: await response.blob() };
  }
}

/** Hands a file to the browser's downloads. */
export function saveFile(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
