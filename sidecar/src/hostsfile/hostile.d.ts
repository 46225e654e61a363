/** The part of hostile 1.4 this module uses (the package ships no types). */
declare module 'hostile' {
  /** A hosts line: `[ip, hosts]` for an entry (hosts is the rest of the line, comment removed), the raw text otherwise. */
  export type HostsLine = string | [ip: string, hosts: string];
  /** Reads `filePath` synchronously, one element per line when `preserveFormatting`; throws on read errors. */
  export function getFile(filePath: string, preserveFormatting: boolean): HostsLine[];
}
