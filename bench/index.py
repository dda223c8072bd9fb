"""The full-text index under load: generated pages in English, French and Chinese.

    .venv/bin/python bench/index.py [--pages 10000]

Indexes PAGES generated pages (documents of 20 pages, each page ~40 lines of words drawn
from a fixed vocabulary per language, with word boxes) into a fresh SQLite index, then
times queries of each kind. Prints pages indexed per second, index size per page, and
query latency p50/p99 (ms) for word, phrase, prefix, CJK (3+ characters) and short CJK
(2 characters) queries. The PostgreSQL back end is not built yet.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pdfocr.index import IndexedDocument, IndexedPage, open_index  # noqa: E402

ENGLISH = [
    "invoice",
    "contract",
    "signed",
    "report",
    "quarterly",
    "shipping",
    "costs",
    "percent",
    "north",
    "southern",
    "depots",
    "delivery",
    "morning",
    "summary",
    "records",
    "office",
    "question",
    "auditors",
    "checked",
    "twice",
    "memo",
    "number",
    "filed",
    "fourth",
    "march",
    "customer",
    "payment",
    "account",
    "balance",
    "receipt",
    "order",
    "warehouse",
    "stock",
    "supplier",
    "price",
    "total",
]
FRENCH = [
    "facture",
    "contrat",
    "signé",
    "rapport",
    "trimestriel",
    "livraison",
    "coûts",
    "pour",
    "cent",
    "nord",
    "entrepôt",
    "résumé",
    "réunion",
    "prêt",
    "client",
    "paiement",
    "compte",
    "solde",
    "reçu",
    "commande",
    "fournisseur",
    "prix",
    "total",
    "été",
    "hiver",
    "élève",
]
CHINESE = "扫描文件变成可搜索的文档每一页都保留原始图像文字层不可见但可以复制发票合同报告"
PAGES_PER_DOCUMENT = 20


def page_text(rng: random.Random) -> str:
    lines = []
    for _ in range(40):
        kind = rng.random()
        if kind < 0.45:
            lines.append(" ".join(rng.choice(ENGLISH) for _ in range(9)))
        elif kind < 0.85:
            lines.append(" ".join(rng.choice(FRENCH) for _ in range(9)))
        else:
            lines.append("".join(rng.choice(CHINESE) for _ in range(14)))
    return "\n".join(lines)


def document(number: int, rng: random.Random) -> IndexedDocument:
    pages = []
    for page in range(1, PAGES_PER_DOCUMENT + 1):
        text = page_text(rng)
        words = [
            (word, 10.0 * (i % 60), 700.0 - (i // 60) * 12, 10.0 * (i % 60) + 8, 712.0)
            for i, word in enumerate(text.split())
        ]
        pages.append(IndexedPage(page, text, 612.0, 792.0, words))
    return IndexedDocument(f"/archive/{number:05d}.pdf", (f"/scans/{number:05d}.tif",), tuple(pages))


QUERIES = {
    "word": ["invoice", "résumé", "warehouse", "fournisseur", "percent"],
    "phrase": ['"signed contract"', '"pour cent"', '"shipping costs"'],
    "prefix": ["contr*", "fact*", "deliv*"],
    "cjk": ["可搜索", "原始图像", "文字层"],
    "cjk-short": ["发票", "合同"],
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=20, help="times each query is run")
    args = parser.parse_args()
    rng = random.Random(1)
    documents = [document(number, rng) for number in range(args.pages // PAGES_PER_DOCUMENT)]
    with tempfile.TemporaryDirectory(prefix="pdfocr-index-") as scratch:
        path = Path(scratch) / "index.db"
        index = open_index(path)
        began = time.perf_counter()
        for made in documents:
            index.add(made)
        seconds = time.perf_counter() - began
        pages = len(documents) * PAGES_PER_DOCUMENT
        size = sum(part.stat().st_size for part in Path(scratch).iterdir())
        print(f"SQLite: {pages} pages indexed in {seconds:.1f} s = {pages / seconds:.0f} pages/s")
        print(f"index size: {size / 2**20:.1f} MB = {size / pages / 1024:.1f} KB per page")
        for kind, queries in QUERIES.items():
            times = []
            for _ in range(args.rounds):
                for query in queries:
                    start = time.perf_counter()
                    index.search(query, limit=10)
                    times.append(1000 * (time.perf_counter() - start))
            ordered = sorted(times)
            p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
            print(f"{kind:10} p50 {statistics.median(times):7.1f} ms   p99 {p99:7.1f} ms")
        index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
