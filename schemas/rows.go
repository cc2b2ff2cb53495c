package schemas

import (
	"time"

	"cloud.google.com/go/civil"
	"github.com/ledgerline/ledgerline/money"
)

// Order is a row of the orders table. Amounts are in Currency.
type Order struct {
	MerchantCode          string       `col:"merchant_code" desc:"2Checkout merchant code of the account."`
	RefNo                 string       `col:"ref_no" desc:"2Checkout order reference (RefNo)."`
	SourceAPI             string       `col:"source_api" desc:"API the order was read from: jsonrpc, rest or legacy."`
	OrderNo               *int64       `col:"order_no" desc:"Merchant-facing order number (OrderNo)."`
	ExternalReference     *string      `col:"external_reference" desc:"Merchant's external reference (ExternalReference)."`
	Status                string       `col:"status" desc:"Order status: AUTHRECEIVED, PENDING, COMPLETE, CANCELED, REVERSED or REFUND."`
	ApproveStatus         *string      `col:"approve_status" desc:"Approval status (ApproveStatus)."`
	OrderTS               time.Time    `col:"order_ts" desc:"When the order was placed, UTC."`
	OrderDate             civil.Date   `col:"order_date" desc:"Order date in the account's reporting time zone; the partition."`
	FinishTS              *time.Time   `col:"finish_ts" desc:"When the order was finished, UTC."`
	Currency              string       `col:"currency" desc:"ISO 4217 payment currency of every amount in the row."`
	Country               *string      `col:"country" desc:"ISO 3166-1 alpha-2 shopper (billing) country, as billing_country."`
	IsTest                bool         `col:"is_test" desc:"True for test orders."`
	CustomerReference     *string      `col:"customer_reference" desc:"2Checkout customer reference."`
	AffiliateCode         *string      `col:"affiliate_code" desc:"Affiliate that referred the order."`
	NetPrice              money.Amount `col:"net_price" desc:"Order value excluding VAT, before discounts."`
	GrossPrice            money.Amount `col:"gross_price" desc:"Order value including VAT, before discounts."`
	NetDiscountedPrice    money.Amount `col:"net_discounted_price" desc:"Order value excluding VAT, after discounts."`
	GrossDiscountedPrice  money.Amount `col:"gross_discounted_price" desc:"What the shopper paid: including VAT, after discounts."`
	Discount              money.Amount `col:"discount" desc:"Value of the discounts."`
	VAT                   money.Amount `col:"vat" desc:"Sales tax or VAT."`
	AffiliateCommission   money.Amount `col:"affiliate_commission" desc:"Affiliate commission; 0 when there is none."`
	TwoCheckoutCommission money.Amount `col:"twocheckout_commission" desc:"2Checkout commission (AvangateCommission)."`
	ChargebackResolution  string       `col:"chargeback_resolution" desc:"NONE, OPEN, WON, LOST or ACCEPTED; UNKNOWN when the API did not send the field."`
	ChargebackReasonCode  *string      `col:"chargeback_reason_code" desc:"Chargeback reason code; NULL when there is no chargeback."`
	RunID                 string       `col:"run_id" desc:"Run that wrote the row."`
	ExtractedAt           time.Time    `col:"extracted_at" desc:"When the run read the order from the API, UTC."`
	// Columns of the real response shape, added after the first release:
	// new nullable columns go last, where BigQuery adds them in place.
	BillingCountry  *string     `col:"billing_country" desc:"ISO 3166-1 alpha-2 billing country (BillingDetails.CountryCode)."`
	DeliveryCountry *string     `col:"delivery_country" desc:"ISO 3166-1 alpha-2 delivery country (DeliveryDetails.CountryCode)."`
	PaymentType     *string     `col:"payment_type" desc:"Payment method type (PaymentDetails.Type), e.g. CC, PAYPAL."`
	CardType        *string     `col:"card_type" desc:"Card brand (PaymentDetails.PaymentMethod.CardType); NULL unless paid by card."`
	FxRate          *money.Rate `col:"fx_rate" desc:"Exchange rate from currency into payout_currency (FxRate)."`
	FxMarkup        *money.Rate `col:"fx_markup" desc:"Exchange markup 2Checkout applied (FxMarkup)."`
	PayoutCurrency  *string     `col:"payout_currency" desc:"ISO 4217 currency 2Checkout pays the account in (PayoutCurrency)."`
	Origin          *string     `col:"origin" desc:"Where the order was placed (Origin), e.g. Web, API."`
}

// OrderItem is a row of the order_items table. Amounts are in Currency.
type OrderItem struct {
	MerchantCode             string       `col:"merchant_code" desc:"2Checkout merchant code of the account."`
	RefNo                    string       `col:"ref_no" desc:"Order reference (RefNo) of the order the line belongs to."`
	LineNo                   int64        `col:"line_no" desc:"Position of the line in the order, from 1."`
	OrderDate                civil.Date   `col:"order_date" desc:"Order date in the account's reporting time zone; the partition."`
	ProductCode              string       `col:"product_code" desc:"Merchant's product code (Code)."`
	ProductName              *string      `col:"product_name" desc:"Product name."`
	SKU                      *string      `col:"sku" desc:"SKU."`
	Quantity                 int64        `col:"quantity" desc:"Number of units."`
	Currency                 string       `col:"currency" desc:"ISO 4217 currency of every amount in the row."`
	NetPrice                 money.Amount `col:"net_price" desc:"Line value excluding VAT, before discounts."`
	GrossPrice               money.Amount `col:"gross_price" desc:"Line value including VAT, before discounts."`
	NetDiscountedPrice       money.Amount `col:"net_discounted_price" desc:"Line value excluding VAT, after discounts."`
	GrossDiscountedPrice     money.Amount `col:"gross_discounted_price" desc:"Line value including VAT, after discounts."`
	Discount                 money.Amount `col:"discount" desc:"Value of the line's discounts."`
	VAT                      money.Amount `col:"vat" desc:"Line sales tax or VAT."`
	AffiliateCommission      money.Amount `col:"affiliate_commission" desc:"Line affiliate commission; 0 when there is none."`
	UnitNetPrice             money.Amount `col:"unit_net_price" desc:"Per unit, excluding VAT, before discounts."`
	UnitGrossPrice           money.Amount `col:"unit_gross_price" desc:"Per unit, including VAT, before discounts."`
	UnitVAT                  money.Amount `col:"unit_vat" desc:"Per unit sales tax or VAT."`
	UnitDiscount             money.Amount `col:"unit_discount" desc:"Per unit discount."`
	UnitNetDiscountedPrice   money.Amount `col:"unit_net_discounted_price" desc:"Per unit, excluding VAT, after discounts."`
	UnitGrossDiscountedPrice money.Amount `col:"unit_gross_discounted_price" desc:"Per unit, including VAT, after discounts."`
	UnitAffiliateCommission  money.Amount `col:"unit_affiliate_commission" desc:"Per unit affiliate commission; 0 when there is none."`
	RunID                    string       `col:"run_id" desc:"Run that wrote the row."`
	ExtractedAt              time.Time    `col:"extracted_at" desc:"When the run read the order from the API, UTC."`
	// Columns of the real response shape, added after the first release.
	LineItemReference *string     `col:"line_item_reference" desc:"2Checkout's id of the line (LineItemReference)."`
	PurchaseType      *string     `col:"purchase_type" desc:"What the line sells (PurchaseType), e.g. PRODUCT."`
	VATPercent        *money.Rate `col:"vat_percent" desc:"VAT rate of the line in percent (Price.VATPercent)."`
}

// Subscription is a row of the subscription_history table: one version of
// a subscription, as it was from ValidFrom until the day before ValidTo.
type Subscription struct {
	MerchantCode              string      `col:"merchant_code" desc:"2Checkout merchant code of the account."`
	SubscriptionReference     string      `col:"subscription_reference" desc:"2Checkout subscription reference."`
	ValidFrom                 civil.Date  `col:"valid_from" desc:"First day (reporting zone) of this version: the business date of the run that saw the change, or for the first version seen, the subscription's start date."`
	ValidTo                   civil.Date  `col:"valid_to" desc:"Day the next version took over (exclusive); 9999-12-31 for the current version; the partition."`
	ProductCode               string      `col:"product_code" desc:"Merchant's product code."`
	ProductName               *string     `col:"product_name" desc:"Product name."`
	ProductQuantity           int64       `col:"product_quantity" desc:"Number of units subscribed."`
	StartTS                   time.Time   `col:"start_ts" desc:"Subscription start, UTC."`
	ActivationTS              *time.Time  `col:"activation_ts" desc:"When the subscription became active, UTC."`
	ExpirationTS              *time.Time  `col:"expiration_ts" desc:"Subscription expiration, UTC; NULL for lifetime subscriptions."`
	NextBillingDate           *civil.Date `col:"next_billing_date" desc:"Next billing date as the API states it."`
	RecurringEnabled          bool        `col:"recurring_enabled" desc:"Automatic renewal is on."`
	SubscriptionEnabled       bool        `col:"subscription_enabled" desc:"The subscription is enabled."`
	Lifetime                  bool        `col:"lifetime" desc:"The subscription never expires."`
	IsTest                    bool        `col:"is_test" desc:"True for test subscriptions."`
	IsTrial                   bool        `col:"is_trial" desc:"True for trials."`
	CustomerReference         *string     `col:"customer_reference" desc:"2Checkout customer reference (AvangateCustomerReference)."`
	ExternalCustomerReference *string     `col:"external_customer_reference" desc:"Merchant's customer reference."`
	EndUserCountry            *string     `col:"end_user_country" desc:"ISO 3166-1 alpha-2 country of the end user."`
	PartnerCode               *string     `col:"partner_code" desc:"Partner that sold the subscription."`
	RunID                     string      `col:"run_id" desc:"Run that wrote the row."`
	ExtractedAt               time.Time   `col:"extracted_at" desc:"When the run read the subscription from the API, UTC."`
}

// OpenValidTo is the valid_to of a subscription's current version.
func OpenValidTo() civil.Date { return civil.Date{Year: 9999, Month: 12, Day: 31} }

// SubscriptionRead is a row of the subscription_reads table: how a run
// read the subscriptions, which decides how the next run reads them.
type SubscriptionRead struct {
	MerchantCode  string      `col:"merchant_code" desc:"2Checkout merchant code of the account."`
	BusinessDate  civil.Date  `col:"business_date" desc:"Business date of the run; the partition."`
	RunID         string      `col:"run_id" desc:"Run that read."`
	ReadAt        time.Time   `col:"read_at" desc:"When the read started, UTC."`
	Full          bool        `col:"full_refresh" desc:"Every subscription was read; false: only those modified since modified_after."`
	ModifiedAfter *civil.Date `col:"modified_after" desc:"The ModifiedAfter day asked for; NULL for a full refresh."`
	Read          int64       `col:"records_read" desc:"Subscriptions the API returned."`
	NewVersions   int64       `col:"new_versions" desc:"Versions the run added to subscription_history: new subscriptions and changes."`
	Closed        int64       `col:"closed" desc:"Versions the run closed: changed, or gone from a full refresh."`
	// LastFullRefresh carries the last full read forward, so that a rerun
	// of the date of a full read, which replaces its row, keeps it known.
	LastFullRefresh civil.Date `col:"last_full_refresh" desc:"Business date of the latest full read as of this one (this one's, when full)."`
}

// Chargeback is a row of the chargebacks table: one disputed order and the
// fee 2Checkout charges for it, with what decided the fee.
type Chargeback struct {
	MerchantCode  string       `col:"merchant_code" desc:"2Checkout merchant code of the account."`
	RefNo         string       `col:"ref_no" desc:"Order reference (RefNo) of the disputed order."`
	OrderTS       time.Time    `col:"order_ts" desc:"When the order was placed, UTC."`
	OrderDate     civil.Date   `col:"order_date" desc:"Order date in the account's reporting time zone."`
	OpenedOn      civil.Date   `col:"opened_on" desc:"When the dispute was opened: first seen by a run, or the order date (see opened_on_basis); the partition. Never moves once set."`
	OpenedOnBasis string       `col:"opened_on_basis" desc:"observed: a nightly run first saw the dispute on opened_on; order_date: the dispute was there the first time the order was read."`
	Resolution    string       `col:"resolution" desc:"Current ChargebackResolution: OPEN, WON, LOST or ACCEPTED."`
	ReasonCode    *string      `col:"reason_code" desc:"ChargebackReasonCode."`
	Currency      string       `col:"currency" desc:"Currency of order_amount."`
	OrderAmount   money.Amount `col:"order_amount" desc:"Disputed amount: the order's gross price."`
	FeeAmount     money.Amount `col:"fee_amount" desc:"Chargeback fee for the dispute, in fee_currency."`
	FeeCurrency   string       `col:"fee_currency" desc:"The account's default currency, in which 2Checkout charges the fee."`
	RateMonth     string       `col:"rate_month" desc:"Month (YYYY-MM) whose chargeback rate chose the fee: the month before opened_on."`
	Rate          *money.Rate  `col:"rate" desc:"Chargeback rate of rate_month; NULL when no data covers that month."`
	FeeRule       string       `col:"fee_rule" desc:"How the fee was chosen, in words."`
	RunID         string       `col:"run_id" desc:"Run that wrote the row."`
	// Added after the first release: new nullable columns go last.
	AsOf *civil.Date `col:"as_of" desc:"Business date of the run that last updated the row; a run of an earlier date leaves the row as it is. NULL for rows written before the column existed."`
}

// ChargebackRate is a row of the chargeback_rates table.
type ChargebackRate struct {
	MerchantCode      string       `col:"merchant_code" desc:"2Checkout merchant code of the account."`
	Month             civil.Date   `col:"month" desc:"First day of the month, in the account's reporting time zone; the partition."`
	Transactions      int64        `col:"transactions" desc:"Non-test orders dated in the month whose status counts as a transaction."`
	ChargebacksOpened int64        `col:"chargebacks_opened" desc:"Disputes opened in the month, whatever their later resolution."`
	Rate              money.Rate   `col:"rate" desc:"chargebacks_opened / transactions, rounded half to even to 9 decimals; 0 without transactions."`
	Complete          bool         `col:"complete" desc:"The month had ended by the run's business date; otherwise the figures are month to date."`
	NextMonthFee      money.Amount `col:"next_month_fee" desc:"Fee per dispute this rate sets for disputes opened in the next month."`
	FeeCurrency       string       `col:"fee_currency" desc:"Currency of next_month_fee: the account's default currency."`
	RunID             string       `col:"run_id" desc:"Run that wrote the row."`
}

// RejectedRow is a row of the rejected_rows table: a raw record that failed
// validation and was quarantined instead of loaded.
type RejectedRow struct {
	MerchantCode string      `col:"merchant_code" desc:"2Checkout merchant code of the account."`
	RunID        string      `col:"run_id" desc:"Run that read the record."`
	RunDate      civil.Date  `col:"run_date" desc:"Business date of the run; the partition."`
	Stream       string      `col:"stream" desc:"Stream the record came from: orders or subscriptions."`
	Position     int64       `col:"position" desc:"Position of the record in the stream as the run read it, from 1."`
	APIDay       *civil.Date `col:"api_day" desc:"First API day of the search (its StartDate; the search reads it and the next day), in the API's time zone."`
	Page         int64       `col:"page" desc:"Page of the search, from 1."`
	Record       int64       `col:"record" desc:"Position of the record in its page, from 1."`
	RecordKey    *string     `col:"record_key" desc:"The record's key (RefNo or SubscriptionReference), if it has one."`
	Field        *string     `col:"field" desc:"The field that failed validation."`
	Reason       string      `col:"reason" desc:"Why the record was rejected."`
	Raw          string      `col:"raw" desc:"The record as JSON, as the API sent it."`
}

// Run is a row of the etl_runs table: one run of a job on one account.
type Run struct {
	RunID        string      `col:"run_id" desc:"Unique id of the run."`
	Job          string      `col:"job" desc:"Job that ran."`
	Account      string      `col:"account" desc:"Account (name in jobs.yaml) the run read."`
	MerchantCode string      `col:"merchant_code" desc:"2Checkout merchant code of the account."`
	BusinessDate civil.Date  `col:"business_date" desc:"Business date the run covered."`
	WindowFrom   *civil.Date `col:"window_from" desc:"First order date of the run's window."`
	WindowTo     *civil.Date `col:"window_to" desc:"Last order date of the run's window."`
	Status       string      `col:"status" desc:"succeeded, failed, or abandoned (the run died; recorded by the next run of its account)."`
	Error        *string     `col:"error" desc:"Why the run failed."`
	StartedAt    time.Time   `col:"started_at" desc:"When the run started, UTC."`
	StartedOn    civil.Date  `col:"started_on" desc:"UTC date of started_at; the partition."`
	FinishedAt   time.Time   `col:"finished_at" desc:"When the run ended, UTC."`
	DurationMS   int64       `col:"duration_ms" desc:"Run time in milliseconds."`
	Orders       int64       `col:"orders" desc:"orders rows written."`
	OrderItems   int64       `col:"order_items" desc:"order_items rows written."`
	Subs         int64       `col:"subscriptions" desc:"subscription_history rows written: the current versions, rewritten by every run that reads subscriptions, and the versions it closed."`
	Chargebacks  int64       `col:"chargebacks" desc:"chargebacks rows written."`
	Rejected     int64       `col:"rejected" desc:"Records that failed validation (rejected_rows)."`
	Files        int64       `col:"files" desc:"Partitions written."`
	Version      string      `col:"version" desc:"ledgerline version that ran."`
	// Added by issue 12, nullable and last.
	FieldCoverage *string `col:"field_coverage" desc:"JSON: by stream, records read and how many carried each field the tables depend on."`
}

// ReportDelivery is a row of the report_deliveries table: one report sent
// to one list of recipients. It is what keeps a report from being sent
// twice: a report run sends nothing when the last delivery of the same
// report, month and recipients carried the same figures.
type ReportDelivery struct {
	MerchantCode string     `col:"merchant_code" desc:"2Checkout merchant code of the account."`
	Month        civil.Date `col:"month" desc:"First day of the report's month; the partition."`
	Report       string     `col:"report" desc:"Report type: accounting."`
	Account      string     `col:"account" desc:"Account (name in jobs.yaml) the report is of."`
	Recipients   string     `col:"recipients" desc:"The recipients, sorted, comma-separated."`
	Digest       string     `col:"digest" desc:"SHA-256 of figures: equal digests, equal figures."`
	Figures      string     `col:"figures" desc:"JSON: the report's figures as [name, value] pairs, as the message stated them."`
	MessageID    string     `col:"message_id" desc:"Message-ID of the message sent."`
	Method       string     `col:"method" desc:"smtp, or outbox (written as an .eml file)."`
	Kind         string     `col:"kind" desc:"first, revised (figures changed since the last delivery) or resent (--resend, same figures)."`
	Provisional  bool       `col:"provisional" desc:"The report was PROVISIONAL: sent before a run had read the whole month, or with fees resting on a fallback."`
	SentAt       time.Time  `col:"sent_at" desc:"When the message was sent or written, UTC."`
	RunID        string     `col:"run_id" desc:"Report run that sent it."`
}
