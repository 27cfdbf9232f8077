import { emailParts } from './email-parts';

describe('emailParts', () => {
  it('splits an address before its @ and after its dots, and joins back to it', () => {
    expect(emailParts('jean-baptiste.dupont@very-long-company.example.com')).toEqual(['jean-baptiste.', 'dupont', '@very-long-company.', 'example.', 'com']);
    expect(emailParts('a@b.c').join('')).toBe('a@b.c');
  });
  it('leaves a name or an address-like text without @ whole', () => {
    expect(emailParts('Ada Lovelace')).toEqual(['Ada Lovelace']);
    expect(emailParts('service.scheduler')).toEqual(['service.scheduler']);
  });
});
