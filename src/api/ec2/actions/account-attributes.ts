import { defineAction } from "../action";
import { p } from "../params";
import { ACCOUNT_ATTRIBUTES, type AccountAttribute } from "../../../roles/clc/compute/account-attributes";

export const DescribeAccountAttributes = defineAction({
  name: "DescribeAccountAttributes",
  params: {
    AttributeName: p.list(p.string({ enum: ACCOUNT_ATTRIBUTES }), { maxItems: ACCOUNT_ATTRIBUTES.length }),
    DryRun: p.boolean(),
  },
  async handler(input, ctx) {
    const attrs = await ctx.services.accountAttributes.describe(
      ctx.principal.accountId,
      (input.AttributeName ?? []) as AccountAttribute[],
      ctx,
    );
    return {
      accountAttributeSet: attrs.map((a) => ({
        attributeName: a.name,
        attributeValueSet: a.values.map((v) => ({ attributeValue: v })),
      })),
    };
  },
});
