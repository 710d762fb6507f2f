"""Bulk loader for the benchmark dataset.

It writes the rows the API's write path would write (same tables, same defaults: ids from
gen_random_uuid(), revision 1, denormalised deployments.model_id), generated inside PostgreSQL
with generate_series so a million deployments take seconds rather than an hour of RPCs. Audit
rows are not generated: no benchmarked read touches them.

    python bench/seed.py --database-url URL [--models 1000] [--releases-per-model 100]
                         [--deployments 1000000]

Deployments can be grown in steps (`grow_deployments`), which the scaling benchmark uses to
measure the same query at 10k, 100k and 1M rows."""

from __future__ import annotations

import argparse
import asyncio
import time

import asyncpg

from catapult_server.versions import sort_key

MODELS_SQL = """
INSERT INTO models (name, company, base_model, parameter_count, storage_path, tags, metadata,
                    created_at, updated_at)
SELECT 'bench-model-' || lpad(i::text, 6, '0'),
       'company-' || (i % 50),
       (ARRAY['llama-3', 'mistral', 'qwen-2', 'gpt-4'])[1 + i % 4],
       (ARRAY['7B', '13B', '70B', '405B'])[1 + (i / 4) % 4],
       's3://bench-models/' || i || '/',
       CASE WHEN i % 3 = 0 THEN '["bench", "production"]'::jsonb ELSE '["bench", "experimental"]'::jsonb END,
       jsonb_build_object('training_date', '2024-01-15', 'seq', i),
       now() - make_interval(mins => $1 - i),
       now() - make_interval(mins => $1 - i)
FROM generate_series(1, $1) AS i
"""

RELEASES_SQL = """
INSERT INTO releases (image_id, version, tag, digest, quantization, size_bytes, platform, architecture,
                      os, status, release_notes, metadata, created_at, updated_at)
SELECT m.id,
       '1.' || j || '.0',
       'v1.' || j || '-' || (ARRAY['fp16', 'int8', 'int4', 'fp8'])[1 + j % 4],
       'sha256:' || md5(m.id::text || j),
       (ARRAY['fp16', 'int8', 'int4', 'fp8'])[1 + j % 4],
       15000000000, 'linux/amd64', 'amd64', 'linux',
       CASE WHEN j < $1 / 10 THEN 'deprecated' ELSE 'active' END,
       'bench release', '{}'::jsonb,
       m.created_at + make_interval(secs => j), m.created_at + make_interval(secs => j)
FROM models m CROSS JOIN generate_series(0, $1 - 1) AS j
"""

# Two wheels baked into each release: its own engine build, and one of 1,000 shared runtime
# wheels (release n carries runtime n mod 1000), so a bad runtime's blast radius is 0.1% of the
# releases, spread over the models, as a widely used dependency's would be.
ARTIFACTS_SQL = """
WITH numbered AS (
  SELECT id, created_at, (row_number() OVER (ORDER BY created_at, id)) - 1 AS n FROM releases
)
INSERT INTO artifacts (release_id, name, type, file_path, size_bytes, checksum, platform, python_version,
                       uploaded_by, created_at, updated_at)
SELECT numbered.id, wheel.name || '-' || numbered.n || '.whl', 'wheel',
       's3://bench-artifacts/' || numbered.id || '/' || wheel.name || '.whl', 42000000,
       CASE wheel.name WHEN 'engine' THEN 'sha256:' || md5(numbered.id::text)
                       ELSE 'sha256:runtime-' || numbered.n % 1000 END,
       'linux_x86_64', '3.11', 'bench', numbered.created_at, numbered.created_at
FROM numbered CROSS JOIN (VALUES ('engine'), ('runtime')) AS wheel(name)
"""
# A shared runtime wheel's checksum, for the blast-radius question.
SHARED_CHECKSUM = "sha256:runtime-7"

# Deployment k goes to release number k mod R and to endpoint k mod E, deployed k minutes after
# the start: each endpoint gets a new deployment every E minutes, which supersedes the one before
# (as the write path would: that one is terminated at the moment the new one goes live). Only
# the newest deployment of an endpoint can be live, so about 70% of E deployments are, as in a
# real fleet, whatever the table's size.
DEPLOYMENTS_SQL = """
WITH numbered AS (
  SELECT id, image_id, (row_number() OVER (ORDER BY created_at, id)) - 1 AS n FROM releases
), total AS (SELECT count(*) AS r FROM releases)
INSERT INTO deployments (release_id, model_id, environment, cluster, k8s_namespace, endpoint_url, replicas,
                         status, deployed_by, deployed_at, terminated_at, live_since, metadata, created_at,
                         updated_at)
SELECT rel.id, rel.image_id,
       (ARRAY['production', 'staging', 'development'])[1 + (k % $3) % 3],
       'k8s-' || (ARRAY['prod', 'staging', 'dev'])[1 + (k % $3) % 3] || '-' || (k % 4),
       'ml-' || (k % 20),
       'https://api.bench/' || (k % $3) || '/v1',
       1 + k % 5,
       st.status,
       'bench@company.com',
       ts.at,
       CASE WHEN st.superseded THEN ts.at + make_interval(mins => $3::int)
            WHEN st.status = 'terminated' THEN ts.at + interval '1 day' END,
       CASE WHEN st.status IN ('success', 'terminated') THEN ts.at END,
       '{"deployed_via": "bench"}'::jsonb,
       ts.at, ts.at
FROM generate_series($1::bigint, $2::bigint - 1) AS k
CROSS JOIN total
JOIN numbered rel ON rel.n = k % total.r
CROSS JOIN LATERAL (SELECT timestamptz '2024-01-01' + make_interval(mins => k::int) AS at) ts
CROSS JOIN LATERAL (SELECT k % 20 < 14 AND k + $3 < $2 AS superseded) sup
CROSS JOIN LATERAL (
  SELECT sup.superseded,
         CASE WHEN sup.superseded THEN 'terminated'
              WHEN k % 20 < 14 THEN 'success' WHEN k % 20 < 16 THEN 'failed'
              WHEN k % 20 < 19 THEN 'terminated' ELSE 'deploying' END AS status
) st
"""
# The live deployments the next rows supersede (their endpoint gets a newer deployment).
SUPERSEDE_SQL = """
UPDATE deployments SET status = 'terminated', terminated_at = deployed_at + make_interval(mins => $2::int)
WHERE status = 'success'
  AND deployed_at + make_interval(mins => $2::int) < timestamptz '2024-01-01' + make_interval(mins => $1::int)
"""
# A multiple of 20, so a deployment and its successor at the endpoint have the same status pattern:
# only a deployment that goes live supersedes.
ENDPOINTS = 10_000


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def seed_catalogue(conn: asyncpg.Connection, models: int, releases_per_model: int) -> None:
    """Models, releases and their artifacts (run once, on an empty database), with the version
    sort keys the write path computes (catapult_server.versions)."""
    await conn.execute(MODELS_SQL, models)
    await conn.execute(RELEASES_SQL, releases_per_model)
    rows = await conn.fetch("SELECT id, version FROM releases")
    await conn.execute(
        "UPDATE releases SET version_key = v.key FROM unnest($1::uuid[], $2::text[]) AS v(id, key)"
        " WHERE releases.id = v.id",
        [row["id"] for row in rows],
        [sort_key(row["version"]) for row in rows],
    )
    await conn.execute(ARTIFACTS_SQL)


async def grow_deployments(conn: asyncpg.Connection, to_total: int, endpoints: int = ENDPOINTS) -> int:
    """Add deployments until there are `to_total`; returns how many were added."""
    have: int = await conn.fetchval("SELECT count(*) FROM deployments")
    if have >= to_total:
        return 0
    step = 200_000  # bounded transactions
    for start in range(have, to_total, step):
        end = min(start + step, to_total)
        await conn.execute(SUPERSEDE_SQL, end, endpoints)
        await conn.execute(DEPLOYMENTS_SQL, start, end, endpoints)
    await conn.execute("ANALYZE")
    return to_total - have


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--releases-per-model", type=int, default=100)
    parser.add_argument("--deployments", type=int, default=1_000_000)
    args = parser.parse_args()
    conn = await asyncpg.connect(_dsn(args.database_url))
    try:
        started = time.monotonic()
        if not await conn.fetchval("SELECT count(*) FROM models"):
            await seed_catalogue(conn, args.models, args.releases_per_model)
        added = await grow_deployments(conn, args.deployments)
        print(f"seeded in {time.monotonic() - started:.1f}s ({added} deployments added)")
    finally:
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
