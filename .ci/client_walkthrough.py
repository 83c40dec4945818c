"""The README's walkthrough, done through the Python client generated from /openapi.json.

Run by .ci/client-walkthrough against a fresh ledger holding the Tamworth fixtures:
python3 .ci/client_walkthrough.py BASE_URL TOKEN. Every answer is checked; the first that
is not what the README says stops the run, naming the step.
"""

import csv
import io
import sys
from datetime import date

import openpyxl
from grant_ledger_client import AuthenticatedClient
from grant_ledger_client.api.ledger import list_accounts
from grant_ledger_client.api.monitoring import monitoring_return
from grant_ledger_client.api.postings import allocate, commit, refund, reverse, spend
from grant_ledger_client.api.reference import create_project, get_project
from grant_ledger_client.api.reports import (
    commissioner_return,
    import_spend,
    variance_report,
)
from grant_ledger_client.models import (
    AllocationBody,
    MonitoringReturnFormat,
    Problem,
    ProjectBody,
    PurchaseOrderBody,
    RefundBody,
    ReverseBody,
    SpendBody,
)
from grant_ledger_client.types import File

base, token = sys.argv[1], sys.argv[2]
client = AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)


def answer(step, response, status):
    """The parsed answer of `step`, which must have answered `status`."""
    if response.status_code != status:
        sys.exit(f"{step}: answered {response.status_code}, not {status}: {response.content!r}")
    print(f"ok  {step}: {status}")
    return response.parsed


project = answer(
    "create a project",
    create_project.sync_detailed(
        client=client,
        body=ProjectBody(
            code="ASB-YOUTH",
            name="Youth diversion sessions",
            priority="ASB",
            lead_organisation="Tamworth Borough Council",
        ),
    ),
    201,
)
assert project.code == "ASB-YOUTH" and project.priority == "ASB", project
assert answer("read it back", get_project.sync_detailed("ASB-YOUTH", client=client), 200).name == project.name

allocation = answer(
    "allocate £12,000 of LDF 2023-24",
    allocate.sync_detailed(
        client=client,
        body=AllocationBody(
            grant="LDF",
            financial_year="2023-24",
            project="ASB-YOUTH",
            amount="12000",
            approved_on=date(2023, 3, 16),
            approval_ref="CSP minute 2023/03/4",
            memo="summer programme",
        ),
    ),
    201,
)
assert allocation.amount == "12000.00", allocation

commitment = answer(
    "commit £8,000 to a delivery partner",
    commit.sync_detailed(
        client=client,
        body=PurchaseOrderBody(
            grant="LDF",
            financial_year="2023-24",
            project="ASB-YOUTH",
            supplier="Youth Trust",
            reference="PO-4410",
            amount="8000",
            date=date(2023, 4, 20),
        ),
    ),
    201,
)
assert commitment.outstanding == "8000.00", commitment

invoice = SpendBody(
    grant="LDF",
    project="ASB-YOUTH",
    date=date(2023, 7, 31),
    supplier="Youth Trust",
    description="Summer sessions",
    invoice_ref="INV-2307",
    amount="6500.00",
    commitment_id=commitment.commitment_id,
)
first = answer("record an invoice", spend.sync_detailed(client=client, body=invoice, idempotency_key="inv-2307"), 201)
again = answer("retry it", spend.sync_detailed(client=client, body=invoice, idempotency_key="inv-2307"), 201)
assert again.entry_id == first.entry_id, "a retry under the same key posts nothing twice"


def balances():
    page = answer(
        "read the balances",
        list_accounts.sync_detailed(client=client, grant="LDF", financial_year="2023-24", project="ASB-YOUTH"),
        200,
    )
    return {a.account.split(":", 1)[0]: a.balance for a in page.items}


got = balances()
assert (got["available"], got["committed"], got["spent"]) == ("-4000.00", "-1500.00", "-6500.00"), got

over = answer(
    "overspend",
    spend.sync_detailed(
        client=client,
        body=SpendBody(
            grant="LDF",
            project="ASB-YOUTH",
            date=date(2023, 8, 31),
            supplier="Youth Trust",
            description="More sessions",
            amount="6000",
        ),
    ),
    409,
)
assert isinstance(over, Problem) and over.code == "overspend", over
assert "shortfall 2000.00" in over.detail, over.detail

answer(
    "a refund of £500",
    refund.sync_detailed(
        client=client,
        body=RefundBody(
            grant="LDF",
            project="ASB-YOUTH",
            date=date(2023, 8, 15),
            amount="500",
            reason="Overcharged session",
            spend_entry_id=first.entry_id,
        ),
    ),
    201,
)
assert balances()["spent"] == "-6000.00"

# A spend imported from a CSV file, then reversed: the file goes as bytes.
imported = answer(
    "import a spend file",
    import_spend.sync_detailed(
        client=client,
        body=File(
            payload=io.BytesIO(
                b"date,grant,project,supplier,description,invoice_ref,amount,source_ref\n"
                b"2023-09-30,LDF,ASB-YOUTH,Youth Trust,Autumn sessions,INV-2309,250.00,FMS-9001\n"
            ),
            mime_type="text/csv",
        ),
    ),
    200,
)
assert (imported.accepted, imported.posted) == (1, True), imported
assert balances()["spent"] == "-6250.00"
last = answer(
    "spend again",
    spend.sync_detailed(
        client=client,
        body=SpendBody(
            grant="LDF",
            project="ASB-YOUTH",
            date=date(2023, 10, 2),
            supplier="Youth Trust",
            description="Hall hire",
            amount="100",
        ),
    ),
    201,
)
answer(
    "reverse it",
    reverse.sync_detailed(
        last.entry_id, client=client, body=ReverseBody(date=date(2023, 10, 3), reason="Wrong project")
    ),
    201,
)
assert balances()["spent"] == "-6250.00"

variance = answer(
    "the variance report", variance_report.sync_detailed(client=client, financial_year="2023-24", grant="LDF"), 200
)
row = next(r for r in variance.rows if r.project == "ASB-YOUTH")
assert (row.budget, row.actual) == ("12000.00", "6250.00"), row

# The Commissioner's return for Q2, as the bytes a partnership sends.
response = commissioner_return.sync_detailed(client=client, financial_year="2023-24", quarter=2)
answer("the Commissioner's return", response, 200)
raw = response.content
assert isinstance(raw, bytes), type(raw)
header = raw.split(b"\r\n" if b"\r\n" in raw else b"\n", 1)[0]
assert header == (
    b"financial_year,quarter,period_end,partnership,funder,grant,priority,priority_name,project,"
    b"project_name,lead_organisation,allocated,committed,spent_in_quarter,spent_to_date,available,"
    b"forecast_outturn,variance,rag"
), header
lines = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
ours = next(line for line in lines if line["project"] == "ASB-YOUTH")
assert ours["spent_to_date"] == "6250.00", ours

# The monitoring return as a workbook: bytes that openpyxl opens.
workbook = answer(
    "the monitoring return as XLSX",
    monitoring_return.sync_detailed(client=client, financial_year="2023-24", quarter=2, format_=MonitoringReturnFormat.XLSX),
    200,
)
assert isinstance(workbook, File), f"the workbook is handed over as bytes, not {type(workbook)}"
data = workbook.payload.read()
assert data[:2] == b"PK", data[:16]
sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
heading = [c.value for c in sheet[1]]
assert heading[:2] == ["funder", "grant"], heading
budget_col = heading.index("budget")
project_col = heading.index("project_code")
cells = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[project_col] == "ASB-YOUTH")
assert cells[budget_col] == 12000, cells

print("the walkthrough went as the README says, through the generated client")
