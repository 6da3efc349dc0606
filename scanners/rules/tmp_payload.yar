// Executables where payloads are dropped: world-writable temporary directories and shared memory.
// Needs the `filepath` external (set by forage for files, and to the executable's path for a
// process), so it says nothing for a buffer without a path.
rule forage_elf_in_tmp {
  meta:
    description = "ELF executable in a world-writable temporary directory"
    author = "forage"
    score = 60
  condition:
    uint32(0) == 0x464c457f and
    filepath matches /^\/(tmp|var\/tmp|dev\/shm|run\/shm|var\/lock|run\/lock)\//
}

rule forage_hidden_elf_in_tmp {
  meta:
    description = "ELF executable in a hidden directory or hidden file under a temporary directory"
    author = "forage"
    score = 75
  condition:
    uint32(0) == 0x464c457f and
    filepath matches /^\/(tmp|var\/tmp|dev\/shm)\/(.*\/)?\.[^\/]+/
}
