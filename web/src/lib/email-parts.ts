/**
 * Where an e-mail address may wrap: before its "@" and after each dot ("first." "last" "@example." "com"),
 * never inside a word. Other text (a name) is one part.
 */
export function emailParts(value: string): string[] {
  if (!value.includes('@')) return [value];
  return value.split(/(?=@)|(?<=\.)/).filter((part) => part !== '');
}
