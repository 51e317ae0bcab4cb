"""The record types the emulator knows, their input fields and their output-only fields."""

from __future__ import annotations

from dataclasses import dataclass, field

TRANSACTION_SEQUENCE = "transaction"


@dataclass(frozen=True)
class Field:
    """An input field. `kind` is one of: text, email, bool, date, ref, money, lines, applies."""

    name: str
    kind: str = "text"
    target: str | None = None  # the record type a `ref` points at
    required: bool = False
    max_length: int = 4000


@dataclass(frozen=True)
class RecordType:
    name: str
    fields: tuple[Field, ...]
    computed: tuple[str, ...] = ()
    writable: bool = True
    # Transactions share one internal-id sequence, as in NetSuite, so that ids stay unique across
    # the SuiteQL `transaction` table; every other type counts on its own.
    sequence: str = ""
    tran_prefix: str = ""  # tranId is this prefix and the record's number within its type
    tran_code: str = ""  # the SuiteQL `transaction.type` value
    by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})

    @property
    def is_transaction(self) -> bool:
        return bool(self.tran_code)

    def field(self, name: str) -> Field | None:
        return self.by_name.get(name)


def _ref(name: str, target: str, required: bool = True) -> Field:
    return Field(name, "ref", target=target, required=required)


_EXTERNAL_ID = Field("externalId", max_length=255)
_TIMESTAMPS = ("createdDate", "lastModifiedDate")
_TRANSACTION_HEAD = (
    _ref("currency", "currency"),
    Field("tranDate", "date", required=True),
    Field("memo", max_length=999),
    _EXTERNAL_ID,
)

CURRENCY = RecordType(
    "currency", (Field("symbol"), Field("name")), writable=False, sequence="currency"
)
# Setup records closebot refers to by internal id (settings), seeded and read-only here.
SUBSIDIARY = RecordType(
    "subsidiary", (Field("name"), _ref("currency", "currency")), writable=False,
    sequence="subsidiary")
ACCOUNT = RecordType(
    "account", (Field("acctNumber"), Field("acctName"), Field("acctType")), writable=False,
    sequence="account",
)
DEPARTMENT = RecordType("department", (Field("name"),), writable=False, sequence="department")
CLASSIFICATION = RecordType(
    "classification", (Field("name"),), writable=False, sequence="classification")
LOCATION = RecordType("location", (Field("name"),), writable=False, sequence="location")
SALES_TAX_ITEM = RecordType(
    "salesTaxItem", (Field("itemId"),), writable=False, sequence="item")
# Where a transaction books: its subsidiary (OneWorld) and its segments.
_PLACEMENT = (
    _ref("subsidiary", "subsidiary", required=False),
    _ref("department", "department", required=False),
    _ref("class", "classification", required=False),
    _ref("location", "location", required=False),
)

CUSTOMER = RecordType(
    "customer",
    (
        Field("companyName", required=True, max_length=83),
        _ref("subsidiary", "subsidiary", required=False),
        Field("email", "email", max_length=254),
        _ref("currency", "currency"),
        _EXTERNAL_ID,
        Field("isPerson", "bool"),
        Field("comments", max_length=999),
    ),
    computed=("entityId", "dateCreated", "lastModifiedDate"),
    sequence="customer",
)
SERVICE_SALE_ITEM = RecordType(
    "serviceSaleItem",
    (
        Field("itemId", required=True, max_length=250),
        Field("displayName", max_length=250),
        Field("description"),
        _ref("incomeAccount", "account", required=False),
        # Revenue recognition without ARM: sales of the item post to this account.
        _ref("deferredRevenueAccount", "account", required=False),
        _EXTERNAL_ID,
    ),
    computed=_TIMESTAMPS,
    sequence="item",
)
SALES_ORDER = RecordType(
    "salesOrder",
    (
        _ref("entity", "customer"),
        *_TRANSACTION_HEAD,
        *_PLACEMENT,
        Field("startDate", "date"),
        Field("endDate", "date"),
        Field("otherRefNum", max_length=45),
        Field("item", "lines", required=True),
    ),
    computed=("tranId", "total", "status", *_TIMESTAMPS),
    sequence=TRANSACTION_SEQUENCE,
    tran_prefix="SO",
    tran_code="SalesOrd",
)
INVOICE = RecordType(
    "invoice",
    (
        _ref("entity", "customer"),
        *_TRANSACTION_HEAD,
        *_PLACEMENT,
        Field("dueDate", "date", required=True),
        # Units of the subsidiary's currency per unit of the transaction's; NetSuite's own
        # rate for the day when absent.
        Field("exchangeRate", "money"),
        Field("tranId", max_length=45),
        Field("otherRefNum", max_length=45),
        Field("item", "lines", required=True),
    ),
    computed=("total", "amountPaid", "amountRemaining", "status", "createdFrom", *_TIMESTAMPS),
    sequence=TRANSACTION_SEQUENCE,
    tran_prefix="INV",
    tran_code="CustInvc",
)
CUSTOMER_PAYMENT = RecordType(
    "customerPayment",
    (
        _ref("customer", "customer"),
        *_TRANSACTION_HEAD,
        # Without an account the payment waits in Undeposited Funds for a deposit.
        _ref("account", "account", required=False),
        Field("exchangeRate", "money"),
        Field("payment", "money", required=True),
        Field("apply", "applies"),
    ),
    computed=("tranId", "applied", "unapplied", "status", *_TIMESTAMPS),
    sequence=TRANSACTION_SEQUENCE,
    tran_prefix="PYMT",
    tran_code="CustPymt",
)
CREDIT_MEMO = RecordType(
    "creditMemo",
    (
        _ref("entity", "customer"),
        *_TRANSACTION_HEAD,
        Field("exchangeRate", "money"),
        Field("item", "lines", required=True),
        Field("apply", "applies"),
    ),
    computed=(
        "tranId", "total", "applied", "unapplied", "amountRemaining", "status", *_TIMESTAMPS
    ),
    sequence=TRANSACTION_SEQUENCE,
    tran_prefix="CM",
    tran_code="CustCred",
)

# Cash records (sandbox/netsuite/cash.py has their rules and general-ledger lines).
DEPOSIT = RecordType(
    "deposit",
    (_ref("account", "account"), *_TRANSACTION_HEAD, _PLACEMENT[0],
     Field("other", "glines", required=True)),
    computed=("tranId", "total", "status", *_TIMESTAMPS),
    sequence=TRANSACTION_SEQUENCE, tran_prefix="DEP", tran_code="Deposit",
)
CUSTOMER_REFUND = RecordType(
    "customerRefund",
    (_ref("customer", "customer"), _ref("account", "account"), *_TRANSACTION_HEAD,
     _PLACEMENT[0], Field("apply", "refunds", required=True)),
    computed=("tranId", "total", "status", *_TIMESTAMPS),
    sequence=TRANSACTION_SEQUENCE, tran_prefix="CR", tran_code="CustRfnd",
)
JOURNAL_ENTRY = RecordType(
    "journalEntry",
    (*_TRANSACTION_HEAD, _PLACEMENT[0], Field("line", "glines", required=True)),
    computed=("tranId", "total", "status", *_TIMESTAMPS),
    sequence=TRANSACTION_SEQUENCE, tran_prefix="JE", tran_code="Journal",
)

RECORD_TYPES: dict[str, RecordType] = {
    t.name.lower(): t
    for t in (CURRENCY, SUBSIDIARY, ACCOUNT, DEPARTMENT, CLASSIFICATION, LOCATION,
              SALES_TAX_ITEM, CUSTOMER, SERVICE_SALE_ITEM, SALES_ORDER, INVOICE,
              CUSTOMER_PAYMENT, CREDIT_MEMO, DEPOSIT, CUSTOMER_REFUND, JOURNAL_ENTRY)
}
TRANSACTION_TYPES = tuple(t for t in RECORD_TYPES.values() if t.is_transaction)

# NetSuite's currency precision: the number of decimals an amount in that currency may carry.
SEEDED_CURRENCIES = (
    ("USD", "US Dollar", 2),
    ("GBP", "British pound", 2),
    ("CAD", "Canadian Dollar", 2),
    ("EUR", "Euro", 2),
    ("AUD", "Australian Dollar", 2),
    ("JPY", "Yen", 0),
)


# The chart the emulator starts with: (number, name, NetSuite account type).
SEEDED_ACCOUNTS = (
    ("4000", "Subscription Revenue", "Income"),
    ("4100", "Services Revenue", "Income"),
    ("1000", "Operating bank", "Bank"),
    ("1100", "Accounts Receivable", "AcctRec"),
    ("1200", "Undeposited Funds", "OthCurrAsset"),
    ("1300", "Disputed funds", "OthCurrAsset"),
    ("6100", "Payment processing fees", "Expense"),
    ("6300", "Dispute fees", "Expense"),
    ("6400", "Chargeback losses", "Expense"),
    ("6200", "Bad Debt Expense", "Expense"),
    ("2100", "Deferred Revenue", "DeferRevenue"),
)
RECEIVABLES, UNDEPOSITED, SALES = "1100", "1200", "4000"


def record_type(name: str) -> RecordType | None:
    """Record type names in REST URLs are case-insensitive (`salesorder` is `salesOrder`)."""
    return RECORD_TYPES.get(name.lower())
