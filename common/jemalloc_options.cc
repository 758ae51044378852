// Options jemalloc reads at start-up; MALLOC_CONF in the environment is read
// after these and wins. Linked only into executables that use jemalloc
// (ctxd_link_malloc in the top-level CMakeLists.txt).
//
// thp:always backs jemalloc's memory with transparent huge pages (the kernel
// here hands them out on madvise only). RocksDB's memtables are arenas of
// 8 MiB blocks that every commit writes into at fresh addresses, and every
// insert searches a skip list spread over them: 4 KiB pages cost a page
// fault per new page and a TLB miss per visited node. With huge pages, ctxd
// spent 5-15 % less CPU per durable set, for ~40 MiB more resident memory
// (docs/benchmarks.md, "Ninth session").
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "thp:always";
}
