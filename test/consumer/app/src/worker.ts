import { Resource } from 'sst';

// Reads what the link gives it; never run by the test (SST's build of it is not part of it).
export const handler = async () => Resource.Locks.tableName;
