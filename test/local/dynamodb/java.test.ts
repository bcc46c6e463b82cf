import { describe, expect, it } from 'vitest';
import { assertJava17, JavaMissingError } from '../../../local/dynamodb/java.js';

describe('the Java check of DynamoDB Local', () => {
  it('says in one line, with the install hint, that Java is missing', () => {
    const check = () => assertJava17('/nonexistent/bin/java');
    expect(check).toThrow(JavaMissingError);
    expect(check).toThrow(/^DynamoDB Local needs Java 17 or newer.*apt-get install openjdk-17-jre-headless/);
    try {
      check();
    } catch (error) {
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('accepts the Java of this machine', () => {
    expect(() => assertJava17()).not.toThrow();
  });
});
