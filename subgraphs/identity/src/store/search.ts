/** An ILIKE pattern matching `text` anywhere, with the caller's % and _ taken literally. */
export const containsPattern = (text: string | undefined): string | null => {
  const trimmed = text?.trim();
  if (trimmed === undefined || trimmed === '') return null;
  return `%${trimmed.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
};
