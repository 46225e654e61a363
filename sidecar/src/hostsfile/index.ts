/** The hosts file, the one file outside its own folders that the sidecar edits as root. */
export { isLoopbackV4, isValidHostname, validateEntries, type HostEntry } from './validate';
export { currentOwner, formatOwner, isOwnerAlive, parseOwner, processStartTime, type OwnerId } from './owner';
export {
  detectEol, parseHosts, renderBlock, stripBlocks, stripDeadOwners, stripOwner, withBlock,
  type HostsBlock, type MalformedMarker, type ParsedHosts, type StripResult,
} from './block';
export { writeAtomic, writeAtomicSync, type WriteMethod, type WriteOptions } from './writer';
export { HostsFileManager, type HostConflict, type HostsFileManagerOptions, type PurgeResult, type RemovedBlock } from './manager';
