-- wrk -s wrk_pipeline.lua URL -- N: every write carries N pipelined GET requests (wrk counts each
-- response), as wrk's own scripts/pipeline.lua does with a fixed list.
init = function(args)
  local depth = tonumber(args[1]) or 16
  local requests = {}
  for i = 1, depth do requests[i] = wrk.format("GET", wrk.path) end
  batch = table.concat(requests)
end

request = function()
  return batch
end
