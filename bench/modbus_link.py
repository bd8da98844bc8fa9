"""What the Modbus link adds to a request: ``python -m bench.modbus_link --json``.

A pymodbus server on loopback holds a SunSpec inverter's register image. The same reads (the
125-register block of a model, then two registers) go once straight through pymodbus's client
and once through :class:`drivers.modbus.link.TcpLink`, which adds its lock, its timeout and the
watch that ends a request at once when the device closes the connection. Reported: median and
90th percentile per read in microseconds, and the link's median over pymodbus's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import time
from typing import Any

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import ModbusTcpServer

from agent.clock import RealClock
from drivers.modbus.link import TcpLink

SIZES = (125, 2)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _stats(times_us: list[float]) -> dict[str, float]:
    ordered = sorted(times_us)
    return {
        "median_us": round(statistics.median(ordered), 1),
        "p90_us": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
    }


async def _time(read: Any, count: int, reads: int) -> list[float]:
    times: list[float] = []
    for _ in range(reads):
        t0 = time.perf_counter()
        await read(count)
        times.append((time.perf_counter() - t0) * 1e6)
    return times


async def run(reads: int) -> dict[str, Any]:
    block = ModbusSequentialDataBlock(1, list(range(65536)))  # type: ignore[no-untyped-call]
    context = ModbusServerContext(devices={1: ModbusDeviceContext(hr=block)}, single=False)  # type: ignore[no-untyped-call]
    port = _free_port()
    server = ModbusTcpServer(context, address=("127.0.0.1", port))
    await server.serve_forever(background=True)
    client = AsyncModbusTcpClient("127.0.0.1", port=port, retries=0, reconnect_delay=0)
    await client.connect()
    link = TcpLink("127.0.0.1", port, RealClock())
    try:

        async def direct(count: int) -> Any:
            return await client.read_holding_registers(40000, count=count, device_id=1)

        async def through_link(count: int) -> Any:
            return await link.read(1, 40000, count)

        out: dict[str, Any] = {"reads_per_case": reads, "cases": []}
        for count in SIZES:
            await _time(direct, count, 20)  # warm both paths before timing
            await _time(through_link, count, 20)
            plain = _stats(await _time(direct, count, reads))
            linked = _stats(await _time(through_link, count, reads))
            out["cases"].append(
                {
                    "registers": count,
                    "pymodbus": plain,
                    "link": linked,
                    "link_over_pymodbus_median": round(linked["median_us"] / plain["median_us"], 2),
                }
            )
        return out
    finally:
        await link.close()
        client.close()
        await server.shutdown()  # type: ignore[no-untyped-call]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.modbus_link", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--reads", type=int, default=500, help="timed reads per case and path")
    args = parser.parse_args(argv)
    out = asyncio.run(run(args.reads))
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        for case in out["cases"]:
            print(
                f"{case['registers']:>3} registers: pymodbus {case['pymodbus']['median_us']} us, "
                f"link {case['link']['median_us']} us (x{case['link_over_pymodbus_median']})"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
