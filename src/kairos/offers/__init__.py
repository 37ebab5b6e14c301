"""Offers and coupons: the offer library, coupon pools, matching, assignment, redemption."""
