#!/bin/bash
# Running the sweep through the batch system instead of Ansible: one job per node, exclusive of
# nothing (the sweep is niced and capped), results on a shared directory. Submit with
#   sbatch --nodelist=wn[001-100] --ntasks-per-node=1 slurm-sweep.sh /shared/forage /shared/broadcast.eml /shared/results
# then: forage merge /shared/results --format md --expect-nodes nodes.txt
#SBATCH --job-name=forage-sweep
#SBATCH --time=00:15:00
#SBATCH --cpus-per-task=1
#SBATCH --mem=1G
#SBATCH --output=/dev/null
set -u
forage=${1:?forage binary}
broadcast=${2:?broadcast}
results=${3:?results directory}
host=$(hostname -f 2>/dev/null || hostname)
# srun runs one task on every node of the allocation; each writes its own file.
srun --ntasks-per-node=1 bash -c "
  \"$forage\" sweep --iocs \"$broadcast\" --json --budget 10m --max-cpu 50 --io-rate 20 \
    > \"$results/\$(hostname -f 2>/dev/null || hostname).jsonl.part\"
  rc=\$?
  mv \"$results/\$(hostname -f 2>/dev/null || hostname).jsonl.part\" \"$results/\$(hostname -f 2>/dev/null || hostname).jsonl\"
  exit \$(( rc == 2 ? 2 : 0 ))
"
echo "forage sweep job on $host done" >&2
