"""Routes of the work screens, purchase screens and customer portal.

All are in the reconciliation namespace.
"""

from django.urls import path

from reconciliation import portal_views, purchase_views, work_views

urlpatterns = [
    path(
        "work/orders/<str:number>/fulfilment/",
        work_views.fulfilment,
        name="work_fulfilment",
    ),
    path(
        "work/orders/<str:number>/shipments/",
        work_views.record_shipment,
        name="work_record_shipment",
    ),
    path(
        "work/orders/<str:number>/drafts/discard/",
        work_views.discard_draft,
        name="work_discard_draft",
    ),
    path(
        "work/orders/<str:number>/shortage/",
        work_views.report_shortage,
        name="work_report_shortage",
    ),
    path("work/cases/<int:case_id>/", work_views.sales_decision, name="work_sales"),
    path(
        "work/cases/<int:case_id>/backorder/",
        work_views.decide_backorder,
        name="work_backorder",
    ),
    path(
        "work/cases/<int:case_id>/price/",
        work_views.uphold_price,
        name="work_uphold_price",
    ),
    path(
        "work/cases/<int:case_id>/withdraw/",
        work_views.withdraw_proposal,
        name="work_withdraw_proposal",
    ),
    path(
        "work/cases/<int:case_id>/credit-note/",
        work_views.propose_credit_note,
        name="work_credit_note",
    ),
    path(
        "work/cases/<int:case_id>/reship/",
        work_views.propose_reship,
        name="work_reship",
    ),
    path("work/cash/", work_views.cash_application, name="work_cash"),
    path("work/cash/apply/", work_views.apply_cash, name="work_apply_cash"),
    path("work/approvals/", work_views.approval_list, name="work_approvals"),
    path(
        "work/approvals/<int:approval_id>/decide/",
        work_views.decide_approval,
        name="work_decide_approval",
    ),
    path(
        "work/purchasing/",
        purchase_views.purchase_order_list,
        name="purchase_orders",
    ),
    path(
        "work/purchasing/orders/<str:number>/",
        purchase_views.purchase_order_detail,
        name="purchase_order",
    ),
    path(
        "work/purchasing/orders/<str:number>/receipt/",
        purchase_views.record_receipt,
        name="purchase_receipt",
    ),
    path(
        "work/purchasing/bills/<str:number>/",
        purchase_views.vendor_bill_detail,
        name="vendor_bill",
    ),
    path(
        "work/purchasing/bills/<str:number>/release/",
        purchase_views.override_release,
        name="vendor_bill_release",
    ),
    path(
        "work/purchasing/bills/<str:number>/keep/",
        purchase_views.keep_duplicate,
        name="vendor_bill_keep",
    ),
    path("portal/", portal_views.home, name="portal_home"),
    path("portal/statement/", portal_views.statement, name="portal_statement"),
    path("portal/orders/<str:number>/", portal_views.order, name="portal_order"),
    path(
        "portal/orders/<str:number>/problem/",
        portal_views.report_problem,
        name="portal_problem",
    ),
    path(
        "portal/shipments/<int:shipment_id>/confirm/",
        portal_views.confirm_receipt,
        name="portal_confirm_receipt",
    ),
    path("portal/cases/<int:case_id>/", portal_views.case, name="portal_case"),
    path(
        "portal/proposals/<int:proposal_id>/accept/",
        portal_views.accept_proposal,
        name="portal_accept",
    ),
    path(
        "portal/proposals/<int:proposal_id>/reject/",
        portal_views.reject_proposal,
        name="portal_reject",
    ),
    path(
        "evidence/<int:evidence_id>/",
        portal_views.evidence_file,
        name="evidence_file",
    ),
]
