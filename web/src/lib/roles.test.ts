import { isDemotion, roleChangeWarning } from './roles';

describe('role changes', () => {
  it('knows a demotion from a promotion', () => {
    expect(isDemotion('OWNER', 'ADMIN')).toBe(true);
    expect(isDemotion('VIEWER', 'OPERATOR')).toBe(false);
    expect(isDemotion('ADMIN', 'ADMIN')).toBe(false);
  });

  it('warns most about demoting yourself out of managing members', () => {
    expect(roleChangeWarning({ from: 'ADMIN', to: 'VIEWER', self: true })).toMatch(/your own role.*cannot undo this yourself/);
    expect(roleChangeWarning({ from: 'OWNER', to: 'ADMIN', self: true })).toMatch(/your own role/);
    expect(roleChangeWarning({ from: 'OWNER', to: 'ADMIN', self: true })).not.toMatch(/cannot undo/);
    expect(roleChangeWarning({ from: 'OPERATOR', to: 'VIEWER', self: false })).toMatch(/They lose/);
    expect(roleChangeWarning({ from: 'VIEWER', to: 'ADMIN', self: false })).toBeUndefined();
  });
});
