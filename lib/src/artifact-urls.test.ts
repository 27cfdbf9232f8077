import { signArtifactUrl, verifyArtifactUrl } from './artifact-urls';

const KEY = 'k'.repeat(40);
const OLD = 'o'.repeat(40);
const ID = '0192f6c4-7a2b-7c3d-8e4f-5a6b7c8d9e0f';
const ORG = '0192f6c4-0000-7000-8000-000000000001';
const OTHER_ORG = '0192f6c4-0000-7000-8000-000000000002';

const partsOf = (url: string) => {
  const u = new URL(url, 'http://gateway.test');
  return { id: decodeURIComponent(u.pathname.replace('/artifacts/', '')), org: u.searchParams.get('org') ?? undefined, exp: u.searchParams.get('exp') ?? undefined, sig: u.searchParams.get('sig') ?? undefined };
};

describe('artifact download URLs', () => {
  const now = Date.UTC(2026, 0, 1);
  const expiresAt = now / 1000 + 300;
  const url = signArtifactUrl([KEY], { artifactId: ID, orgId: ORG, expiresAt });

  it('is a gateway path carrying the org, the expiry and the signature', () => {
    expect(url).toMatch(new RegExp(`^/artifacts/${ID}\\?org=${ORG}&exp=${expiresAt}&sig=[A-Za-z0-9_-]{43}$`));
    expect(signArtifactUrl([KEY], { artifactId: ID, orgId: ORG, expiresAt }, 'https://orchestra.example/')).toBe(`https://orchestra.example${url}`);
  });

  it('verifies before expiry, with the signing key or any older key still listed', () => {
    expect(verifyArtifactUrl([KEY], partsOf(url), now)).toEqual({ ok: true, grant: { artifactId: ID, orgId: ORG, expiresAt } });
    expect(verifyArtifactUrl([OLD, KEY], partsOf(url), now).ok).toBe(true);
    expect(verifyArtifactUrl([OLD], partsOf(url), now)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('refuses an expired URL', () => {
    expect(verifyArtifactUrl([KEY], partsOf(url), expiresAt * 1000)).toEqual({ ok: false, reason: 'EXPIRED' });
  });

  it('refuses a URL whose id, org or expiry was changed', () => {
    const parts = partsOf(url);
    expect(verifyArtifactUrl([KEY], { ...parts, org: OTHER_ORG }, now)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(verifyArtifactUrl([KEY], { ...parts, id: '0192f6c4-7a2b-7c3d-8e4f-5a6b7c8d9e10' }, now)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(verifyArtifactUrl([KEY], { ...parts, exp: String(expiresAt + 3600) }, now)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(verifyArtifactUrl([KEY], { ...parts, sig: `${parts.sig ?? ''}A` }, now)).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('refuses malformed parts without computing anything', () => {
    const parts = partsOf(url);
    expect(verifyArtifactUrl([KEY], { ...parts, id: '../etc/passwd' }, now)).toEqual({ ok: false, reason: 'MALFORMED' });
    expect(verifyArtifactUrl([KEY], { ...parts, org: undefined }, now)).toEqual({ ok: false, reason: 'MALFORMED' });
    expect(verifyArtifactUrl([KEY], { ...parts, exp: '1e9' }, now)).toEqual({ ok: false, reason: 'MALFORMED' });
    expect(verifyArtifactUrl([KEY], { ...parts, sig: ['a', 'b'] }, now)).toEqual({ ok: false, reason: 'MALFORMED' });
  });
});
