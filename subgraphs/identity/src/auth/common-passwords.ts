/**
 * Passwords (and password stems) that attackers try first, from the most common entries of public
 * breach lists. A password is refused when it is one of these, or one of these with digits and
 * symbols around it ("Password2024!").
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '123456', '1234567', '12345678', '123456789', '1234567890', '12345678910', '0123456789', '0987654321', '9876543210',
  '111111', '1111111111', '000000', '0000000000', '121212', '123123', '123123123', '123321', '654321', '666666',
  '112233', '159753', '147258369', '123qwe', '1q2w3e', '1q2w3e4r', '1q2w3e4r5t', '1qaz2wsx', '1qaz2wsx3edc', 'zaq12wsx',
  'qwerty', 'qwertyuiop', 'qwerty123', 'qwertyuiop123', 'asdfgh', 'asdfghjkl', 'zxcvbn', 'zxcvbnm', 'qazwsx', 'qweasdzxc',
  'password', 'passw0rd', 'p@ssw0rd', 'p@ssword', 'passwort', 'motdepasse', 'contrasena', 'senha', 'parola', 'haslo',
  'letmein', 'welcome', 'welcomeback', 'iloveyou', 'trustno1', 'whatever', 'secret', 'changeme', 'changeit', 'default',
  'admin', 'administrator', 'root', 'toor', 'login', 'master', 'access', 'test', 'testing', 'guest', 'user', 'demo',
  'abc123', 'abcdef', 'abcdefg', 'abcdefgh', 'abcdefghij', 'abcd1234', 'aa123456', 'a123456', 'azerty', 'azertyuiop',
  'monkey', 'dragon', 'football', 'baseball', 'basketball', 'soccer', 'hockey', 'superman', 'batman', 'spiderman',
  'starwars', 'pokemon', 'sunshine', 'princess', 'shadow', 'michael', 'jennifer', 'jordan', 'hunter', 'killer',
  'charlie', 'freedom', 'flower', 'summer', 'winter', 'autumn', 'spring', 'cookie', 'chocolate', 'cheese',
  'computer', 'internet', 'orchestra', 'blink182', 'liverpool', 'chelsea', 'arsenal', 'barcelona', 'matrix', 'mustang',
  'ginger', 'jessica', 'ashley', 'daniel', 'thomas', 'andrew', 'joshua', 'george', 'maggie', 'lovely', 'loveme',
  'iloveu', 'family', 'friends', 'forever', 'hello', 'helloworld', 'qwerty1', 'password1', 'password12', 'password123',
  'password1234', 'administrator1', 'welcome1', 'welcome123', 'letmein1', 'letmein123', 'monkey123', 'dragon123',
  'q1w2e3r4', 'q1w2e3r4t5', 'q1w2e3r4t5y6', 'a1b2c3d4', 'a1b2c3d4e5', 'zaq1zaq1', 'zaq1xsw2', 'xsw2zaq1', '!qaz2wsx',
  'asdf1234', 'qwer1234', 'qwert', 'mypassword', 'yourpassword', 'newpassword', 'oldpassword', 'nopassword', 'pass',
]);
