import { defineAction } from "../action";
import { applyFilters } from "../filters";
import { filterList, p } from "../params";
import { paged } from "./common";

const tagList = () => p.list(p.struct({ Key: p.string({ required: true }), Value: p.string() }));

export const CreateTags = defineAction({
  name: "CreateTags",
  params: { ResourceId: p.list(p.string(), { required: true, maxItems: 1000 }), Tag: tagList(), DryRun: p.boolean() },
  handler(input, ctx) {
    ctx.services.tags.create(
      ctx.principal.accountId,
      input.ResourceId,
      (input.Tag ?? []).map((t) => ({ key: t.Key, value: t.Value ?? "" })),
    );
    return { return: true };
  },
});

export const DeleteTags = defineAction({
  name: "DeleteTags",
  params: { ResourceId: p.list(p.string(), { required: true, maxItems: 1000 }), Tag: tagList(), DryRun: p.boolean() },
  handler(input, ctx) {
    ctx.services.tags.delete(
      ctx.principal.accountId,
      input.ResourceId,
      (input.Tag ?? []).map((t) => ({ key: t.Key, value: t.Value })),
    );
    return { return: true };
  },
});

export const DescribeTags = defineAction({
  name: "DescribeTags",
  params: {
    Filter: filterList(),
    MaxResults: p.integer({ min: 5, max: 1000 }),
    NextToken: p.string(),
    DryRun: p.boolean(),
  },
  handler(input, ctx) {
    const rows = applyFilters(ctx.services.tags.list(ctx.principal.accountId), input.Filter, {
      key: (t) => t.key,
      value: (t) => t.value,
      "resource-id": (t) => t.resourceId,
      "resource-type": (t) => t.resourceType,
    });
    const { page, nextToken } = paged(rows, input);
    return {
      tagSet: page.map((t) => ({ resourceId: t.resourceId, resourceType: t.resourceType, key: t.key, value: t.value })),
      nextToken,
    };
  },
});
