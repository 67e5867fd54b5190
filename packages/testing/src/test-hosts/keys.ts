import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runOk } from '../exec.js';

/** An OpenSSH key pair: the private key as OpenSSH PEM text, the public key as one line. */
export interface SshKeyPair {
  privateKey: string;
  /** `ssh-ed25519 AAAA…` (no comment). */
  publicKey: string;
  /** Where the private key was written (mode 0600). */
  privateKeyFile: string;
}

/** Generates an ed25519 key pair with ssh-keygen into `dir/<name>` and `dir/<name>.pub`. */
export async function generateSshKey(dir: string, name: string): Promise<SshKeyPair> {
  const file = join(dir, name);
  await runOk('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  const [privateKey, publicLine] = await Promise.all([
    readFile(file, 'utf8'),
    readFile(`${file}.pub`, 'utf8'),
  ]);
  const [type, key] = publicLine.trim().split(/\s+/);
  return { privateKey, publicKey: `${type} ${key}`, privateKeyFile: file };
}

/** PEM texts of a TLS certificate and its private key. */
export interface TlsPair {
  cert: string;
  key: string;
}

/** What a Docker client needs for a `tcp://…:2376` engine with `--tlsverify`. */
export interface ClientTls {
  /** The CA that signed the engine's certificate (and the client's). */
  ca: string;
  /** The client certificate (extendedKeyUsage clientAuth). */
  cert: string;
  key: string;
}

const DAYS = '2';
/** `openssl req` options for a new, unencrypted P-256 key. */
const NEW_P256_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A fresh P-256 key and a certificate request for it, through openssl (argv only). */
async function keyAndRequest(dir: string, name: string, subject: string): Promise<void> {
  await runOk('openssl', [
    'req',
    '-new',
    ...NEW_P256_KEY,
    '-keyout',
    join(dir, `${name}-key.pem`),
    '-out',
    join(dir, `${name}.csr`),
    '-subj',
    subject,
  ]);
}

async function sign(dir: string, name: string, extensions: string[]): Promise<TlsPair> {
  const extFile = join(dir, `${name}.ext`);
  await writeFile(extFile, `${extensions.join('\n')}\n`);
  await runOk('openssl', [
    'x509',
    '-req',
    '-in',
    join(dir, `${name}.csr`),
    '-CA',
    join(dir, 'ca.pem'),
    '-CAkey',
    join(dir, 'ca-key.pem'),
    // A random serial per certificate: hosts are signed in parallel, a shared ca.srl would race.
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    DAYS,
    '-sha256',
    '-extfile',
    extFile,
    '-out',
    join(dir, `${name}-cert.pem`),
  ]);
  const [cert, key] = await Promise.all([
    readFile(join(dir, `${name}-cert.pem`), 'utf8'),
    readFile(join(dir, `${name}-key.pem`), 'utf8'),
  ]);
  return { cert, key };
}

/** A throwaway CA in `dir` (ca.pem, ca-key.pem) that signs the hosts' and the client's certificates. */
export async function createCertificateAuthority(dir: string): Promise<string> {
  await runOk('openssl', [
    'req',
    '-x509',
    '-new',
    ...NEW_P256_KEY,
    '-keyout',
    join(dir, 'ca-key.pem'),
    '-out',
    join(dir, 'ca.pem'),
    '-days',
    DAYS,
    '-subj',
    '/CN=simpledeploy test hosts CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return readFile(join(dir, 'ca.pem'), 'utf8');
}

/** A server certificate for an engine at `ip` (and `name`), signed by the CA in `dir`. */
export async function createServerCertificate(
  dir: string,
  name: string,
  ip: string,
): Promise<TlsPair> {
  await keyAndRequest(dir, name, `/CN=${name}`);
  return sign(dir, name, [
    `subjectAltName=IP:${ip},DNS:${name}`,
    'extendedKeyUsage=serverAuth',
    'keyUsage=critical,digitalSignature,keyAgreement',
  ]);
}

/** The client certificate tests present to the engines, signed by the CA in `dir`. */
export async function createClientCertificate(dir: string): Promise<TlsPair> {
  await keyAndRequest(dir, 'client', '/CN=simpledeploy-test-client');
  return sign(dir, 'client', [
    'extendedKeyUsage=clientAuth',
    'keyUsage=critical,digitalSignature,keyAgreement',
  ]);
}
