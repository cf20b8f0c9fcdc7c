/**
 * The escrow service's address as the agent accepts it: https, or plain http only to this
 * machine (a local test service) unless the person says `--insecure-http`, since the device
 * credential and recovery keys travel on this connection.
 */
export class ServerUrlError extends Error {
  override name = 'ServerUrlError';
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

export function checkServerUrl(text: string, allowInsecureHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ServerUrlError(`--server ${JSON.stringify(text)} is not a URL; give the service's address, e.g. https://keyward.example.com`);
  }
  if (url.protocol === 'https:') return url.toString();
  if (url.protocol !== 'http:') throw new ServerUrlError(`--server must be an https:// address (got ${url.protocol}//)`);
  if (LOCAL_HOSTS.has(url.hostname) || allowInsecureHttp) return url.toString();
  throw new ServerUrlError(`refusing plain http:// to ${url.host}: the device credential and recovery keys would cross the network unencrypted. Use https://, or add --insecure-http if you really mean it (test networks only)`);
}
