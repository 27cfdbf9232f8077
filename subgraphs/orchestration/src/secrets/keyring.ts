/** The envelope encryption of organization secrets lives in lib (identity seals SSO client secrets with it too). */
export { generateSecretsKeys, openSecret, rewrapSecret, sealSecret, SecretDecryptionError, secretKeyringEnv, type KeyEncryptionKey, type SealedSecret, type SecretBinding, type SecretKeyring } from '@orchestra/lib';
